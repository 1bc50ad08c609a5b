// One protocol session as a WebRTC call (PROTOCOL.md section 13), with the interface of connection.js:
// open(), send(message), close(), `ready`, and callbacks onState(state, detail), onMessage(message),
// onProblem(text), plus onRemoteStream(stream) for the server's speech track.
//
// The offer holds one sendrecv audio transceiver carrying the microphone track it is given and a
// data channel labelled "streamvoice" (ordered, reliable); ICE is gathered before the offer is
// POSTed (no trickle). Data channel messages are decoded by the same strict reader as WebSocket
// frames. A refused offer (4xx) ends the connection; a busy server (503), an unreachable one or a
// dropped call is retried with exponential back-off (0.5 s … 10 s).

import { bye, encodeMessage, hello } from "./protocol.js";
import { ProtocolSession } from "./session-base.js";

const GATHER_TIMEOUT_MS = 10000; // ICE gathering without STUN/TURN answers ends well before this
const BYE_GRACE_MS = 2000; // after `bye` the server closes the call; this is the fallback

export class RtcConnection extends ProtocolSession {
  constructor(offerUrl, helloOptions, callbacks, { track, iceServers = [] }) {
    super(offerUrl, helloOptions, callbacks);
    this.onRemoteStream = callbacks.onRemoteStream;
    this.track = track; // the microphone (owned by this connection: stopped on close)
    this.iceServers = iceServers;
    this.pc = null;
    this.channel = null;
    this.finished = false; // refused or closed: the page makes a new connection to try again
    this.carriesMicrophone = true; // audio travels on the track, never as `audio` messages
  }

  /** Captioning on/off: a disabled track sends silence, so the call stays up. */
  setMicrophone(on) {
    this.track.enabled = on;
  }

  async connect() {
    this.onState(this.attempt === 0 ? "connecting" : "reconnecting", this.url);
    const pc = new RTCPeerConnection({ iceServers: this.iceServers });
    this.pc = pc;
    pc.addTransceiver(this.track, { direction: "sendrecv" });
    const channel = pc.createDataChannel("streamvoice"); // ordered and reliable by default (section 13.2)
    channel.binaryType = "arraybuffer";
    this.channel = channel;
    pc.ontrack = (event) => this.onRemoteStream(event.streams[0] || new MediaStream([event.track]));
    channel.onmessage = (event) => this.receive(event.data);
    channel.onclose = () => this.dropped(pc, "the data channel closed");
    pc.onconnectionstatechange = () => {
      if (pc.connectionState === "failed") this.dropped(pc, "the call's network path failed (ICE)");
    };
    let response;
    try {
      await pc.setLocalDescription(await pc.createOffer());
      await gathered(pc);
      if (pc !== this.pc) return;
      const body = { type: "offer", sdp: pc.localDescription.sdp, hello: hello(this.helloOptions) };
      delete body.hello.type;
      response = await fetch(this.url, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify(body),
        cache: "no-store",
      });
    } catch (err) {
      this.dropped(pc, `the call could not be set up (${err.message})`);
      return;
    }
    if (pc !== this.pc) return;
    const answer = await response.json().catch(() => ({}));
    if (!response.ok) {
      this.refused(pc, response.status, answer.error || {});
      return;
    }
    try {
      await pc.setRemoteDescription({ type: "answer", sdp: answer.sdp });
    } catch (err) {
      const message = `the server's answer is unusable: ${err.message}`;
      this.refused(pc, response.status, { code: "bad_answer", message });
    }
  }

  /** A 4xx answer (or an unusable one): shown to the user, not retried; 503 is retried. */
  refused(pc, status, { code = "http_error", message = "" }) {
    if (status === 503) {
      this.dropped(pc, `the server is busy (${message || code})`);
      return;
    }
    this.release(pc);
    this.finished = true;
    this.track.stop();
    this.onProblem(`The server refused the call (HTTP ${status}, ${code}): ${message}`);
    this.onState("error", `call refused: ${code}`);
  }

  dropped(pc, why) {
    if (pc !== this.pc) return;
    this.release(pc);
    if (this.closing) {
      this.finish();
      return;
    }
    this.retryLater(`call ended (${why})`);
  }

  release(pc) {
    if (pc !== this.pc) return;
    this.pc = null;
    this.channel = null;
    this.ready = null;
    pc.close();
  }

  finish() {
    this.finished = true;
    this.track.stop();
    this.onState("idle", "closed");
  }

  /** Send a message on the data channel; `audio` is never sent (the microphone is the track). */
  send(message) {
    const channel = this.channel;
    if (!channel || channel.readyState !== "open" || !this.ready || message.type === "audio") return false;
    channel.send(encodeMessage(message));
    return true;
  }

  close() {
    this.closing = true;
    clearTimeout(this.timer);
    const pc = this.pc;
    if (this.channel && this.channel.readyState === "open") {
      this.channel.send(encodeMessage(bye("page closed the session")));
      setTimeout(() => this.dropped(pc, "closed"), BYE_GRACE_MS);
    } else if (pc) {
      this.dropped(pc, "closed");
    } else {
      this.finish();
    }
  }
}

/** Resolves when ICE gathering is complete (the offer then carries every candidate). */
function gathered(pc) {
  if (pc.iceGatheringState === "complete") return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      if (pc.localDescription && /a=candidate:/.test(pc.localDescription.sdp)) resolve();
      else reject(new Error("no ICE candidates were gathered"));
    }, GATHER_TIMEOUT_MS);
    pc.addEventListener("icegatheringstatechange", () => {
      if (pc.iceGatheringState !== "complete") return;
      clearTimeout(timer);
      resolve();
    });
  });
}
