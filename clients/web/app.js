// The caption page: wires the settings, the connection, the microphone and the player.
// The transport is a WebSocket (connection.js: audio as messages, played by the player worklet)
// or a WebRTC call (webrtc-connection.js: audio on the call's track, played by an <audio> element).
// State and counters are exposed on window.streamvoice for tests and for curious users.

import { AudioIO } from "./audio-io.js";
import { Connection } from "./connection.js";
import { LevelMeter } from "./level-meter.js";
import * as msg from "./protocol.js";
import { RtcConnection } from "./webrtc-connection.js";

const $ = (id) => document.getElementById(id);
const LEVEL_TEXT = ["normal", "fewer partials", "finals only", "dropping audio"];
const params = new URLSearchParams(location.search);
const LOUD_RMS = 0.01; // the remote track is "speaking" above this level (about -40 dBFS)

const stats = {
  state: "idle",
  framesSent: 0,
  framesDropped: 0,
  partials: 0,
  finals: [],
  ttsChunks: 0,
  ttsTexts: 0, // WebRTC: tts_text messages (the track is saying a chunk)
  remoteRms: 0, // WebRTC: level of the server's track now, its peak, and how long it was above LOUD_RMS
  remotePeakRms: 0,
  remoteLoudMs: 0,
  remoteMeasuredMs: 0,
  remoteLastLoudAt: null, // performance.now() of the last window above LOUD_RMS
  bargeInAt: null, // performance.now() of the last barge-in
  playedSamples: 0,
  playbackRate: 0,
  bargeIns: 0,
  maxLagLevel: 0,
  turnsDone: {}, // turn → status of its tts_done
  errors: [],
};
window.streamvoice = { stats };

const audio = new AudioIO({ onFrame: sendFrame, onPlayback: playbackReport });
const remoteMeter = new LevelMeter(remoteLevel);
let connection = null;
let capturing = false;
let seq = 0;
let lastTurn = 0; // highest turn this page opened in the current session
let cancelledUpTo = 0; // tts_audio of turns <= this is discarded (barge-in)
let playing = false;
let readyWaiters = []; // resolved when a session is ready

function whenReady(timeoutMs = 15000) {
  if (connection && connection.ready) return Promise.resolve(true);
  return new Promise((resolve) => {
    readyWaiters.push(resolve);
    setTimeout(() => resolve(false), timeoutMs);
  });
}

function serverUrl() {
  const given = params.get("server");
  if (given) return given;
  return `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/v1/stream`;
}

// The signalling endpoint beside the WebSocket one (PROTOCOL 13.1).
function offerUrl() {
  const url = new URL(serverUrl().replace(/^ws/, "http"));
  url.pathname = url.pathname.replace(/stream$/, "webrtc/offer");
  return url.href;
}

// STUN/TURN servers for calls across NATs: ?ice=stun:host:3478,turn:host:3478&ice_username=…&ice_credential=…
function iceServers() {
  const urls = params.get("ice");
  if (!urls) return [];
  const server = { urls: urls.split(",") };
  if (params.get("ice_username")) server.username = params.get("ice_username");
  if (params.get("ice_credential")) server.credential = params.get("ice_credential");
  return [server];
}

function settings() {
  return {
    asr: { language: $("language").value, task: $("task").value },
    tts: { voice: $("voice").value || "af_heart", speed: Number($("speed").value) },
  };
}

// ---- notices and status -------------------------------------------------------------------

function notice(kind, text) {
  const box = $("notice");
  if (!text) {
    box.hidden = true;
    return;
  }
  box.dataset.kind = kind;
  box.textContent = text;
  box.hidden = false;
}

const STATE_TEXT = { idle: "Not connected", connecting: "Connecting…", reconnecting: "Reconnecting…", ready: "Connected", error: "Error" };

function setState(state, detail) {
  stats.state = state;
  const pill = $("connection");
  pill.dataset.state = state;
  pill.textContent = STATE_TEXT[state] || state;
  pill.title = detail || "";
  if (state === "reconnecting") notice("warn", `Connection lost: ${detail}.`);
  if (state === "error" && capturing) toggleCapture();
  if (state === "ready") {
    lastTurn = 0;
    cancelledUpTo = 0;
    audio.flush();
    $("voice-status").textContent = "Voice idle.";
    notice(null);
    for (const resolve of readyWaiters) resolve(true);
    readyWaiters = [];
  }
}

function problem(text) {
  stats.errors.push(text);
  notice("error", text);
}

// ---- connection ---------------------------------------------------------------------------

let opening = null; // the ensureConnection() under way, so that two callers get one connection

function ensureConnection() {
  if (!opening) opening = openConnection().finally(() => (opening = null));
  return opening;
}

async function openConnection() {
  await audio.init();
  if (connection && !connection.finished) return connection;
  const rate = audio.sampleRate;
  const { asr, tts } = settings();
  const token = params.get("token") ? { token: params.get("token") } : {};
  let made = null;
  const live = (callback) => (...args) => connection === made && callback(...args); // a replaced connection is mute
  const callbacks = {
    onState: live(setState),
    onMessage: live(handle),
    onProblem: live(problem),
    onRemoteStream: live(playRemote),
  };
  if ($("transport").value === "webrtc") {
    // the call carries the microphone (a copy of the page's stream: it lives as long as the call)
    const track = (await audio.openMicrophone()).getAudioTracks()[0].clone();
    track.enabled = false; // silence until captioning starts
    made = new RtcConnection(offerUrl(), { asr, tts, ...token }, callbacks, { track, iceServers: iceServers() });
  } else {
    const audioFormat = { sample_rate: rate, encoding: "pcm_s16le" };
    const options = { asr, tts: { ...tts, sample_rate: rate }, audio: audioFormat, ...token };
    made = new Connection(serverUrl(), options, callbacks);
  }
  connection = made;
  stats.transport = $("transport").value;
  made.open();
  return made;
}

// WebRTC: the server's speech track plays through the <audio> element; its level is measured.
function playRemote(stream) {
  const element = $("remote-audio");
  element.srcObject = stream;
  element.play().catch((err) => {
    if (err.name === "NotAllowedError") problem("The browser blocked the voice: click the page to allow sound.");
  });
  audio.context.resume();
  remoteMeter.watch(audio.context, stream);
}

function remoteLevel(rms, intervalMs) {
  stats.remoteRms = rms;
  stats.remoteMeasuredMs += intervalMs;
  stats.remotePeakRms = Math.max(stats.remotePeakRms, rms);
  if (rms > LOUD_RMS) {
    stats.remoteLoudMs += intervalMs;
    stats.remoteLastLoudAt = performance.now();
  }
}

function changeTransport() {
  if (capturing) toggleCapture();
  remoteMeter.stop();
  if (connection) {
    const old = connection;
    connection = null;
    old.close();
    setState("idle", "transport changed");
  }
}

function handle(message) {
  switch (message.type) {
    case "speech":
      if (message.event === "start" && playing) bargeIn("you spoke over the voice");
      break;
    case "partial":
      stats.partials += 1;
      showPartial(message);
      break;
    case "final":
      if (message.eager) break; // a tentative end of turn (PROTOCOL 6.4.1), not a caption
      addFinal(message);
      if ($("echo").checked && message.text.trim()) say(message.text.trim());
      break;
    case "tts_audio":
      if (message.turn <= cancelledUpTo) return;
      stats.ttsChunks += 1;
      audio.play(message.turn, message.data);
      if (message.text) $("voice-status").textContent = `Speaking (turn ${message.turn}): ${message.text}`;
      break;
    case "tts_text": // WebRTC: the track now says this chunk
      if (message.turn <= cancelledUpTo) return;
      stats.ttsTexts += 1;
      playing = true;
      if (message.text) $("voice-status").textContent = `Speaking (turn ${message.turn}): ${message.text}`;
      break;
    case "tts_done":
      stats.turnsDone[message.turn] = message.status;
      audio.endTurn(message.turn);
      if (connection && connection.carriesMicrophone && message.turn >= lastTurn) {
        playing = false; // the track has played the last turn's last sample, or dropped it (PROTOCOL 13.4)
        if (message.status === "complete") $("voice-status").textContent = "Voice idle.";
      }
      if (message.status === "error") problem(`Speech for turn ${message.turn} failed on the server.`);
      break;
    case "flow":
      showLag(message);
      break;
    case "error":
      problem(`Server error ${message.code}${message.fatal ? " (session closed)" : ""}: ${message.message}`);
      break;
    default:
      break;
  }
}

function showLag(flow) {
  stats.maxLagLevel = Math.max(stats.maxLagLevel, flow.level);
  if (flow.level === 0) {
    if ($("notice").dataset.kind === "warn") notice(null);
    return;
  }
  const dropped = flow.dropped_ms ? `; ${(flow.dropped_ms / 1000).toFixed(1)} s of audio dropped` : "";
  notice("warn", `Recognition is ${(flow.lag_ms / 1000).toFixed(1)} s behind (${LEVEL_TEXT[flow.level]})${dropped}.`);
}

// ---- captions -----------------------------------------------------------------------------

function showPartial(partial) {
  const line = $("partial");
  line.replaceChildren();
  const stable = document.createElement("span");
  stable.className = "stable";
  stable.textContent = partial.stable_text;
  line.append(stable, partial.text.slice(partial.stable_text.length));
  $("empty").hidden = true;
}

function addFinal(final) {
  stats.finals.push(final.text);
  $("partial").textContent = "";
  if (!final.text.trim()) return;
  const item = document.createElement("li");
  const meta = document.createElement("div");
  meta.className = "meta";
  meta.textContent = `${final.start_s.toFixed(1)}–${final.end_s.toFixed(1)} s`;
  if (final.language) {
    const lang = document.createElement("span");
    lang.className = "lang";
    lang.textContent = final.language;
    if (final.language_probability !== null) lang.title = `confidence ${(final.language_probability * 100).toFixed(0)} %`;
    meta.append(lang);
  }
  if (final.latency_ms !== null) meta.append(document.createElement("br"), `${final.latency_ms} ms after speech`);
  const text = document.createElement("div");
  text.textContent = final.text.trim();
  item.append(meta, text);
  $("captions").append(item);
  $("empty").hidden = true;
  item.scrollIntoView({ block: "nearest" });
}

// ---- microphone ---------------------------------------------------------------------------

function sendFrame(pcm, peak) {
  $("meter-bar").style.width = `${Math.min(100, Math.round(peak * 140))}%`;
  if (!capturing || !connection || connection.carriesMicrophone) return;
  if (connection.send(msg.audio(seq, new Uint8Array(pcm)))) {
    seq += 1;
    stats.framesSent += 1;
  } else {
    stats.framesDropped += 1;
  }
}

async function toggleCapture() {
  const button = $("start");
  if (capturing) {
    capturing = false;
    audio.stopMicrophone();
    if (connection && connection.carriesMicrophone) connection.setMicrophone(false);
    if (connection) connection.send(msg.audioEnd(seq > 0 ? seq - 1 : undefined));
    button.dataset.running = "false";
    button.textContent = "Start captioning";
    return;
  }
  try {
    await ensureConnection();
    await audio.startMicrophone();
    if (connection.carriesMicrophone) connection.setMicrophone(true);
  } catch (err) {
    problem(`Cannot use the microphone: ${err.message}. Allow microphone access for this page and try again.`);
    return;
  }
  capturing = true;
  button.dataset.running = "true";
  button.textContent = "Stop captioning";
}

// ---- voice agent --------------------------------------------------------------------------

async function say(textToSay) {
  try {
    await ensureConnection();
    await audio.context.resume();
  } catch (err) {
    problem(`Cannot connect: ${err.message}.`);
    return;
  }
  if (!(await whenReady())) {
    problem("Not connected: the text was not sent. Check the server, then try again.");
    return;
  }
  lastTurn += 1;
  if (!connection.send({ ...msg.text(textToSay, true), turn: lastTurn })) {
    lastTurn -= 1;
    problem("Not connected: the text was not sent. Try again once the status says Connected.");
  }
}

function bargeIn(why) {
  if (!connection) return;
  connection.send(msg.cancel());
  audio.flush();
  cancelledUpTo = lastTurn;
  stats.bargeIns += 1;
  stats.bargeInAt = performance.now();
  $("voice-status").textContent = `Voice stopped: ${why}.`;
}

function playbackReport(report) {
  stats.playedSamples = report.totalPlayed;
  stats.playbackRate = audio.sampleRate;
  playing = report.playing;
  const turns = Object.keys(report.played).map(Number).filter((t) => t > cancelledUpTo);
  if (!connection || turns.length === 0) return;
  const turn = report.turnEnded ?? Math.max(...turns);
  const toMs = (samples) => Math.round((samples * 1000) / audio.sampleRate);
  connection.send(msg.flow(turn, toMs(report.played[turn] || 0), toMs(report.buffered)));
  if (report.turnEnded !== undefined && !report.playing) $("voice-status").textContent = "Voice idle.";
}

// ---- settings and wiring ------------------------------------------------------------------

// The voice list is the server's (GET /v1/voices beside its /v1/stream); the page starts with the default alone.
async function loadVoices() {
  try {
    const url = new URL(serverUrl().replace(/^ws/, "http"));
    url.pathname = url.pathname.replace(/stream$/, "voices");
    const response = await fetch(url, { cache: "no-store" });
    if (!response.ok) return;
    const offer = await response.json();
    if (!offer.voices || offer.voices.length === 0) return;
    const select = $("voice");
    const current = select.value || offer.default_voice;
    select.replaceChildren(...offer.voices.map((name) => new Option(name, name, false, name === current)));
    stats.voices = offer.voices.length;
  } catch (error) {
    console.warn("voice list unavailable", error);
  }
}

function reconfigure(part) {
  if (connection) connection.send(msg.configure({ [part]: settings()[part] }));
}

loadVoices();
if (params.get("transport") === "webrtc") $("transport").value = "webrtc";
$("start").addEventListener("click", toggleCapture);
$("transport").addEventListener("change", changeTransport);
$("language").addEventListener("change", () => reconfigure("asr"));
$("task").addEventListener("change", () => reconfigure("asr"));
$("voice").addEventListener("change", () => reconfigure("tts"));
$("speed").addEventListener("input", () => ($("speed-value").textContent = `${Number($("speed").value).toFixed(1)}×`));
$("speed").addEventListener("change", () => reconfigure("tts"));
$("say-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const value = $("say-text").value.trim();
  if (value) say(value);
  $("say-text").value = "";
});
$("stop-voice").addEventListener("click", () => bargeIn("stopped by you"));
window.addEventListener("pagehide", () => connection && connection.close());

setInterval(() => {
  const played = stats.playbackRate ? (stats.playedSamples / stats.playbackRate).toFixed(1) : "0.0";
  const common = `partials ${stats.partials} · finals ${stats.finals.length} · barge-ins ${stats.bargeIns}`;
  $("stats").textContent =
    stats.transport === "webrtc"
      ? `WebRTC call · ${common} · voice heard on the call ${(stats.remoteLoudMs / 1000).toFixed(1)} s`
      : `audio sent ${(stats.framesSent / 50).toFixed(1)} s · dropped ${stats.framesDropped} frames · ` +
        `${common} · speech played ${played} s`;
}, 500);
