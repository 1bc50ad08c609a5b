// What the WebSocket and the WebRTC connections share: the callbacks, the strict reading of the
// server's messages (the same checks whatever carried them), and the reconnect back-off.

import { decodeMessage } from "./protocol.js";

const BACKOFF_MIN_MS = 500;
const BACKOFF_MAX_MS = 10000;

export class ProtocolSession {
  constructor(url, helloOptions, { onState, onMessage, onProblem }) {
    this.url = url;
    this.helloOptions = helloOptions;
    this.onState = onState;
    this.onMessage = onMessage;
    this.onProblem = onProblem;
    this.ready = null; // the server's `ready`, while a session is open
    this.attempt = 0;
    this.timer = null;
    this.closing = false;
  }

  open() {
    this.closing = false;
    this.connect();
  }

  /** One message from the server: decoded strictly; a bad one is reported and skipped. */
  receive(data) {
    let message;
    try {
      message = decodeMessage(data, "server", this.ready ? this.ready.limits : undefined);
    } catch (err) {
      this.onProblem(`Ignored a bad message from the server (${err.code || "error"}): ${err.message}`);
      return;
    }
    if (message.type === "ready") {
      this.ready = message;
      this.attempt = 0;
      this.onState("ready", message.session);
    }
    this.onMessage(message);
  }

  /** Connect again after an exponential back-off (0.5 s … 10 s, with jitter), saying why. */
  retryLater(why) {
    const delay = Math.min(BACKOFF_MAX_MS, BACKOFF_MIN_MS * 2 ** this.attempt) * (0.8 + 0.4 * Math.random());
    this.attempt += 1;
    this.onState("reconnecting", `${why}; retrying in ${(delay / 1000).toFixed(1)} s`);
    this.timer = setTimeout(() => this.connect(), delay);
  }
}
