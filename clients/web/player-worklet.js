// AudioWorklet: plays synthesised speech through a small jitter buffer.
//
// Messages in (port): {chunk: Float32Array, turn}   queue audio of a turn
//                     {end: turn}                    no more audio for that turn
//                     {flush: true}                  barge-in: drop everything queued, now
// Messages out:       {played: {turn: samples}, buffered, playing}   about every 100 ms and at
//                     each turn's end; the page turns these into `flow` credits.
// Playback of a turn starts once `prebuffer` samples are queued (or its audio has all arrived),
// which absorbs network jitter; an underrun mid-turn plays silence and re-arms the prebuffer.

const REPORT_EVERY_S = 0.1;
const PREBUFFER_S = 0.08;

class PlayerProcessor extends AudioWorkletProcessor {
  constructor() {
    super();
    this.queue = []; // [{samples: Float32Array, turn, offset}]
    this.buffered = 0;
    this.ended = new Set();
    this.played = {}; // turn → samples played
    this.totalPlayed = 0;
    this.primed = false;
    this.prebuffer = Math.round(PREBUFFER_S * sampleRate);
    this.sinceReport = 0;
    this.reportEvery = Math.round(REPORT_EVERY_S * sampleRate);
    this.port.onmessage = (event) => this.receive(event.data);
  }

  receive(message) {
    if (message.flush) {
      this.queue = [];
      this.buffered = 0;
      this.primed = false;
      this.report();
    } else if (message.chunk) {
      this.queue.push({ samples: message.chunk, turn: message.turn, offset: 0 });
      this.buffered += message.chunk.length;
      if (!(message.turn in this.played)) this.played[message.turn] = 0;
    } else if (message.end !== undefined) {
      this.ended.add(message.end);
    }
  }

  report(turnEnded) {
    this.sinceReport = 0;
    this.port.postMessage({
      played: { ...this.played },
      totalPlayed: this.totalPlayed,
      buffered: this.buffered,
      playing: this.queue.length > 0,
      turnEnded,
    });
  }

  process(_inputs, outputs) {
    const out = outputs[0][0];
    out.fill(0);
    const head = this.queue[0];
    if (!this.primed && head && (this.buffered >= this.prebuffer || this.ended.has(head.turn))) this.primed = true;
    let i = 0;
    while (this.primed && i < out.length && this.queue.length > 0) {
      const item = this.queue[0];
      const n = Math.min(out.length - i, item.samples.length - item.offset);
      out.set(item.samples.subarray(item.offset, item.offset + n), i);
      item.offset += n;
      i += n;
      this.buffered -= n;
      this.played[item.turn] += n;
      this.totalPlayed += n;
      if (item.offset === item.samples.length) {
        this.queue.shift();
        const next = this.queue[0];
        if (!next || next.turn !== item.turn) {
          if (this.ended.has(item.turn)) this.report(item.turn);
          if (!next) this.primed = false; // drained: re-arm the prebuffer
        }
      }
    }
    for (let c = 1; c < outputs[0].length; c++) outputs[0][c].set(out);
    this.sinceReport += out.length;
    if (this.sinceReport >= this.reportEvery && (this.queue.length > 0 || this.primed)) this.report();
    return true;
  }
}

registerProcessor("streamvoice-player", PlayerProcessor);
