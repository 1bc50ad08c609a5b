// The level of a MediaStream (in WebRTC mode the server's speech track), read with an AnalyserNode
// every `intervalMs`: onLevel(rms, intervalMs) with the RMS of the latest window (full scale 1.0).

export class LevelMeter {
  constructor(onLevel, intervalMs = 50) {
    this.onLevel = onLevel;
    this.intervalMs = intervalMs;
    this.source = null;
    this.timer = null;
  }

  /** Measure `stream` in `context` (replacing the stream measured before). */
  watch(context, stream) {
    this.stop();
    const analyser = context.createAnalyser();
    analyser.fftSize = 2048;
    this.source = context.createMediaStreamSource(stream);
    this.source.connect(analyser); // an analyser with no output is still pulled by the context
    const window = new Float32Array(analyser.fftSize);
    this.timer = setInterval(() => {
      analyser.getFloatTimeDomainData(window);
      let sum = 0;
      for (const sample of window) sum += sample * sample;
      this.onLevel(Math.sqrt(sum / window.length), this.intervalMs);
    }, this.intervalMs);
  }

  stop() {
    clearInterval(this.timer);
    this.timer = null;
    if (this.source) this.source.disconnect();
    this.source = null;
  }
}
