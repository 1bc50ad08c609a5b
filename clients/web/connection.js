// One protocol session over a WebSocket, reopened with exponential back-off when it drops.
// Events go to the callbacks given: onState(state, detail), onMessage(message), onProblem(text).

import { bye, decodeMessage, encodeMessage, hello } from "./protocol.js";

const BACKOFF_MIN_MS = 500;
const BACKOFF_MAX_MS = 10000;
const MAX_BUFFERED_BYTES = 256 * 1024; // beyond this the socket is not draining: drop audio, not control

export class Connection {
  constructor(url, helloOptions, { onState, onMessage, onProblem }) {
    this.url = url;
    this.helloOptions = helloOptions;
    this.onState = onState;
    this.onMessage = onMessage;
    this.onProblem = onProblem;
    this.socket = null;
    this.ready = null; // the server's `ready`, while a session is open
    this.attempt = 0;
    this.timer = null;
    this.closing = false;
    this.droppedSends = 0;
  }

  open() {
    this.closing = false;
    this.connect();
  }

  connect() {
    this.onState(this.attempt === 0 ? "connecting" : "reconnecting", this.url);
    let socket;
    try {
      socket = new WebSocket(this.url);
    } catch (err) {
      this.onProblem(`Cannot open ${this.url}: ${err.message}`);
      this.onState("error", "bad server URL");
      return;
    }
    socket.binaryType = "arraybuffer";
    this.socket = socket;
    socket.onopen = () => socket.send(encodeMessage(hello(this.helloOptions)));
    socket.onmessage = (event) => this.receive(event.data);
    socket.onclose = (event) => this.closed(socket, event);
  }

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

  closed(socket, event) {
    if (socket !== this.socket) return;
    this.socket = null;
    this.ready = null;
    if (this.closing) {
      this.onState("idle", "closed");
      return;
    }
    const delay = Math.min(BACKOFF_MAX_MS, BACKOFF_MIN_MS * 2 ** this.attempt) * (0.8 + 0.4 * Math.random());
    this.attempt += 1;
    const why = event.reason || (event.code === 1006 ? "the server could not be reached" : `code ${event.code}`);
    this.onState("reconnecting", `connection closed (${why}); retrying in ${(delay / 1000).toFixed(1)} s`);
    this.timer = setTimeout(() => this.connect(), delay);
  }

  /** Send a message; audio is dropped (and counted) when the socket is backed up. */
  send(message) {
    const socket = this.socket;
    if (!socket || socket.readyState !== WebSocket.OPEN || !this.ready) return false;
    if (message.type === "audio" && socket.bufferedAmount > MAX_BUFFERED_BYTES) {
      this.droppedSends += 1;
      return false;
    }
    socket.send(encodeMessage(message));
    return true;
  }

  close() {
    this.closing = true;
    clearTimeout(this.timer);
    const socket = this.socket;
    if (socket && socket.readyState === WebSocket.OPEN) {
      socket.send(encodeMessage(bye("page closed the session")));
      setTimeout(() => socket.close(), 2000); // the server closes first; this is the fallback
    } else if (socket) {
      socket.close();
    } else {
      this.onState("idle", "closed");
    }
  }
}
