// The page's audio: one AudioContext at a protocol sample rate, with the capture worklet
// (microphone → 20 ms pcm_s16le frames) and the player worklet (speech out, jitter buffer).

const PROTOCOL_RATES = [8000, 16000, 24000, 44100, 48000];

export class AudioIO {
  constructor({ onFrame, onPlayback }) {
    this.onFrame = onFrame; // (ArrayBuffer pcm, peak) for each 20 ms of microphone audio
    this.onPlayback = onPlayback; // (report) from the player worklet
    this.context = null;
    this.capture = null;
    this.player = null;
    this.stream = null;
  }

  /** Create the context at its natural rate if the protocol allows it, else at 48 kHz. */
  async init() {
    if (this.context) return;
    let context = new AudioContext({ latencyHint: "interactive" });
    if (!PROTOCOL_RATES.includes(context.sampleRate)) {
      await context.close();
      context = new AudioContext({ latencyHint: "interactive", sampleRate: 48000 });
    }
    await context.audioWorklet.addModule(new URL("./capture-worklet.js", import.meta.url));
    await context.audioWorklet.addModule(new URL("./player-worklet.js", import.meta.url));
    this.player = new AudioWorkletNode(context, "streamvoice-player", { numberOfInputs: 0, outputChannelCount: [1] });
    this.player.port.onmessage = (event) => this.onPlayback(event.data);
    this.player.connect(context.destination);
    this.context = context;
  }

  get sampleRate() {
    return this.context.sampleRate;
  }

  /** The microphone stream (the browser's echo cancellation, noise suppression and gain control on). */
  async openMicrophone() {
    if (!this.stream) {
      this.stream = await navigator.mediaDevices.getUserMedia({
        audio: { channelCount: 1, echoCancellation: true, noiseSuppression: true, autoGainControl: true },
      });
    }
    return this.stream;
  }

  async startMicrophone() {
    await this.init();
    await this.context.resume();
    await this.openMicrophone();
    const source = this.context.createMediaStreamSource(this.stream);
    this.capture = new AudioWorkletNode(this.context, "streamvoice-capture", { numberOfOutputs: 0 });
    this.capture.port.onmessage = (event) => this.onFrame(event.data.pcm, event.data.peak);
    source.connect(this.capture);
  }

  stopMicrophone() {
    if (this.capture) {
      this.capture.port.postMessage("stop");
      this.capture.disconnect();
      this.capture = null;
    }
    if (this.stream) {
      for (const track of this.stream.getTracks()) track.stop();
      this.stream = null;
    }
  }

  /** Queue a chunk of speech (pcm_s16le bytes) for `turn`. */
  play(turn, bytes) {
    const samples = new Int16Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
    const floats = new Float32Array(samples.length);
    for (let i = 0; i < samples.length; i++) floats[i] = samples[i] / 0x8000;
    this.player.port.postMessage({ chunk: floats, turn }, [floats.buffer]);
  }

  endTurn(turn) {
    this.player.port.postMessage({ end: turn });
  }

  /** Barge-in: drop all queued speech at once. */
  flush() {
    if (this.player) this.player.port.postMessage({ flush: true });
  }
}
