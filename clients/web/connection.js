// One protocol session over a WebSocket, reopened with exponential back-off when it drops.
// Events go to the callbacks given: onState(state, detail), onMessage(message), onProblem(text).

import { bye, encodeMessage, hello } from "./protocol.js";
import { ProtocolSession } from "./session-base.js";

const MAX_BUFFERED_BYTES = 256 * 1024; // beyond this the socket is not draining: drop audio, not control

export class Connection extends ProtocolSession {
  constructor(url, helloOptions, callbacks) {
    super(url, helloOptions, callbacks);
    this.socket = null;
    this.droppedSends = 0;
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

  closed(socket, event) {
    if (socket !== this.socket) return;
    this.socket = null;
    this.ready = null;
    if (this.closing) {
      this.onState("idle", "closed");
      return;
    }
    const why = event.reason || (event.code === 1006 ? "the server could not be reached" : `code ${event.code}`);
    this.retryLater(`connection closed (${why})`);
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
