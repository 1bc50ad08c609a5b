// AudioWorklet: microphone → pcm_s16le mono frames of 20 ms at the context's sample rate.
// Each frame is posted to the main thread as a transferred ArrayBuffer, along with the peak
// level of the frame (0..1) so the page can draw a meter without touching the samples again.

class CaptureProcessor extends AudioWorkletProcessor {
  constructor() {
    super();
    this.frameSamples = Math.round(sampleRate / 50); // 20 ms
    this.frame = new Int16Array(this.frameSamples);
    this.filled = 0;
    this.peak = 0;
    this.running = true;
    this.port.onmessage = (event) => {
      if (event.data === "stop") this.running = false;
    };
  }

  process(inputs) {
    const input = inputs[0];
    if (input && input.length > 0) {
      const channels = input.length;
      const length = input[0].length;
      for (let i = 0; i < length; i++) {
        let sum = 0;
        for (let c = 0; c < channels; c++) sum += input[c][i];
        const sample = Math.max(-1, Math.min(1, sum / channels));
        this.peak = Math.max(this.peak, Math.abs(sample));
        this.frame[this.filled++] = sample < 0 ? Math.round(sample * 0x8000) : Math.round(sample * 0x7fff);
        if (this.filled === this.frameSamples) this.flush();
      }
    }
    return this.running;
  }

  flush() {
    const buffer = this.frame.buffer;
    this.port.postMessage({ pcm: buffer, peak: this.peak }, [buffer]);
    this.frame = new Int16Array(this.frameSamples);
    this.filled = 0;
    this.peak = 0;
  }
}

registerProcessor("streamvoice-capture", CaptureProcessor);
