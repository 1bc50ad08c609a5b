// The protocol v1 messages as a table (PROTOCOL.md sections 5 and 6), and the validator that
// turns a strictly-read msgpack map into a plain message with every field present: defaults
// applied, absent optionals as null. Any mismatch throws FieldError naming the field.

import { WireFloat } from "./msgpack-strict.js";

export class FieldError extends Error {}

const MAX_UINT = Number.MAX_SAFE_INTEGER;
const RATES = [8000, 16000, 24000, 44100, 48000];
const ENCODINGS = ["pcm_s16le", "pcm_f32le"];
const VOICE = /^[a-z0-9_]{1,64}(:[0-9]+(\.[0-9]+)?)?(,[a-z0-9_]{1,64}(:[0-9]+(\.[0-9]+)?)?){0,7}$/;

// Field kinds. `req`: required; `opt`: nullable, absent → null; otherwise `def` is the default.
const uint = (o = {}) => ({ kind: "int", min: 0, max: MAX_UINT, ...o });
const int = (min, max, o = {}) => ({ kind: "int", min, max, ...o });
const intIn = (values, o = {}) => ({ kind: "int", values, ...o });
const float = (min, max, o = {}) => ({ kind: "float", min, max, ...o });
const str = (o = {}) => ({ kind: "str", ...o });
const bool = (o = {}) => ({ kind: "bool", ...o });
const bytes = (o = {}) => ({ kind: "bytes", ...o });
const map = (fields, o = {}) => ({ kind: "map", fields, ...o });
const array = (item, o = {}) => ({ kind: "array", item, ...o });

const ASR = {
  model: str({ minLen: 1, maxLen: 64, def: "whisper-base" }),
  language: str({ pattern: /^(auto|[a-z]{2,3})$/, def: "auto" }),
  languages: array(str({ pattern: /^[a-z]{2,3}$/ }), { maxItems: 16, def: [] }),
  task: str({ values: ["transcribe", "translate"], def: "transcribe" }),
  partials: bool({ def: true }),
  word_timestamps: bool({ def: true }),
  vad_aggressiveness: int(0, 3, { def: 2 }),
  end_of_speech_ms: int(100, 5000, { def: 600 }),
  lock_language: bool({ def: false }),
};
const TTS = {
  voice: str({ pattern: VOICE, def: "af_heart" }),
  speed: float(0.5, 2.0, { def: 1.0 }),
  sample_rate: intIn(RATES, { def: 24000 }),
  encoding: str({ values: ENCODINGS, def: "pcm_s16le" }),
};
const AUDIO_IN = {
  encoding: str({ values: ENCODINGS, def: "pcm_s16le" }),
  sample_rate: intIn(RATES, { def: 16000 }),
  channels: intIn([1, 2], { def: 1 }),
};
const AUDIO_FORMAT = {
  encoding: str({ values: ENCODINGS, req: true }),
  sample_rate: intIn(RATES, { req: true }),
  channels: intIn([1, 2], { def: 1 }),
};
const LIMIT = { max: 2147483647 };
const LIMITS = {
  max_frame_bytes: int(1, LIMIT.max, { def: 1048576 }),
  max_text_chars: int(1, LIMIT.max, { def: 20000 }),
  max_messages_per_s: int(1, LIMIT.max, { def: 200 }),
  max_audio_lead_ms: int(1, LIMIT.max, { def: 2000 }),
  max_unread_ms: int(1, LIMIT.max, { def: 10000 }),
  max_queued_bytes: int(1, LIMIT.max, { def: 2097152 }),
};
const WORD = {
  word: str({ req: true }),
  start_s: float(0, Infinity, { req: true }),
  end_s: float(0, Infinity, { req: true }),
  probability: float(0, 1, { opt: true }),
};
const TTS_WORD = { word: str({ req: true }), start_ms: uint({ req: true }), end_ms: uint({ req: true }) };
const BYE = { reason: str({ maxLen: 1024, def: "" }) };

/** Messages a client sends (section 5). */
export const CLIENT_MESSAGES = {
  hello: {
    versions: array(uint(), { minItems: 1, maxItems: 16, def: [1] }),
    token: str({ maxLen: 4096, opt: true }),
    asr: map(ASR, { def: {} }),
    tts: map(TTS, { def: {} }),
    audio: map(AUDIO_IN, { def: {} }),
  },
  audio: { seq: uint({ req: true }), data: bytes({ req: true }) },
  audio_end: { seq: uint({ opt: true }) },
  text: { text: str({ def: "" }), final: bool({ def: false }), turn: uint({ opt: true }) },
  cancel: { turn: uint({ opt: true }) },
  flow: { turn: uint({ opt: true }), played_ms: uint({ opt: true }), buffered_ms: uint({ opt: true }) },
  configure: { asr: map(ASR, { opt: true }), tts: map(TTS, { opt: true }) },
  ping: { id: uint({ def: 0 }) },
  bye: BYE,
};

/** Messages a server sends (section 6). */
export const SERVER_MESSAGES = {
  ready: {
    session: str({ minLen: 1, maxLen: 128, req: true }),
    version: uint({ req: true }),
    limits: map(LIMITS, { def: {} }),
    input_audio: map(AUDIO_FORMAT, { req: true }),
    output_audio: map(AUDIO_FORMAT, { req: true }),
    asr: map(ASR, { def: {} }),
    tts: map(TTS, { def: {} }),
  },
  speech: {
    event: str({ values: ["start", "end"], req: true }),
    utterance: uint({ req: true }),
    time_s: float(0, Infinity, { req: true }),
  },
  partial: {
    utterance: uint({ req: true }),
    revision: uint({ req: true }),
    text: str({ req: true }),
    stable_text: str({ def: "" }),
    words: array(map(WORD), { opt: true }),
  },
  final: {
    utterance: uint({ req: true }),
    text: str({ req: true }),
    words: array(map(WORD), { def: [] }),
    language: str({ opt: true }),
    language_probability: float(0, 1, { opt: true }),
    start_s: float(0, Infinity, { req: true }),
    end_s: float(0, Infinity, { req: true }),
    latency_ms: uint({ opt: true }),
    eager: bool({ def: false }),
  },
  turn_resumed: {
    utterance: uint({ req: true }),
    time_s: float(0, Infinity, { req: true }),
  },
  tts_audio: {
    turn: uint({ req: true }),
    seq: uint({ req: true }),
    data: bytes({ req: true }),
    sample_rate: intIn(RATES, { req: true }),
    text: str({ def: "" }),
    offset_ms: uint({ req: true }),
    words: array(map(TTS_WORD), { opt: true }),
  },
  tts_text: {
    turn: uint({ req: true }),
    seq: uint({ req: true }),
    text: str({ def: "" }),
    offset_ms: uint({ req: true }),
    track_ms: uint({ req: true }),
    words: array(map(TTS_WORD), { opt: true }),
  },
  tts_done: {
    turn: uint({ req: true }),
    status: str({ values: ["complete", "cancelled", "error"], def: "complete" }),
    duration_ms: uint({ opt: true }),
    played_ms: uint({ opt: true }),
    heard_words: uint({ opt: true }),
    heard_text: str({ opt: true }),
  },
  flow: { lag_ms: uint({ req: true }), level: int(0, 3, { def: 0 }), dropped_ms: uint({ def: 0 }) },
  error: {
    code: str({ minLen: 1, maxLen: 64, req: true }),
    message: str({ def: "" }),
    fatal: bool({ def: false }),
    ref: map({ type: str({ opt: true }), seq: uint({ opt: true }) }, { opt: true }),
  },
  pong: { id: uint({ def: 0 }) },
  bye: BYE,
};

function fail(path, what) {
  throw new FieldError(`${path}: ${what}`);
}

function checkValue(spec, raw, path) {
  switch (spec.kind) {
    case "int": {
      if (typeof raw === "bigint") fail(path, "integer out of range");
      if (typeof raw !== "number" || !Number.isInteger(raw)) fail(path, "must be an integer");
      if (spec.values && !spec.values.includes(raw)) fail(path, `must be one of ${spec.values.join(", ")}`);
      if (spec.min !== undefined && raw < spec.min) fail(path, `must be >= ${spec.min}`);
      if (spec.max !== undefined && raw > spec.max) fail(path, `must be <= ${spec.max}`);
      return raw;
    }
    case "float": {
      let value = raw;
      if (raw instanceof WireFloat) value = raw.value;
      else if (typeof raw === "bigint") value = Number(raw);
      else if (typeof raw !== "number") fail(path, "must be a number");
      if (!Number.isFinite(value)) fail(path, "must be finite");
      if (value < spec.min || value > spec.max) fail(path, `must be within ${spec.min}..${spec.max}`);
      return value;
    }
    case "str": {
      if (typeof raw !== "string") fail(path, "must be a string");
      const length = [...raw].length;
      if (spec.minLen !== undefined && length < spec.minLen) fail(path, `must have at least ${spec.minLen} character(s)`);
      if (spec.maxLen !== undefined && length > spec.maxLen) fail(path, `must have at most ${spec.maxLen} characters`);
      if (spec.values && !spec.values.includes(raw)) fail(path, `must be one of ${spec.values.join(", ")}`);
      if (spec.pattern && !spec.pattern.test(raw)) fail(path, `does not match ${spec.pattern}`);
      return raw;
    }
    case "bool":
      if (typeof raw !== "boolean") fail(path, "must be true or false");
      return raw;
    case "bytes":
      if (!(raw instanceof Uint8Array)) fail(path, "must be msgpack bin");
      return raw;
    case "map":
      if (!(raw instanceof Map)) fail(path, "must be a map");
      return fillFields(spec.fields, raw, path);
    case "array": {
      if (!Array.isArray(raw)) fail(path, "must be an array");
      if (spec.minItems !== undefined && raw.length < spec.minItems) fail(path, `needs at least ${spec.minItems} item(s)`);
      if (spec.maxItems !== undefined && raw.length > spec.maxItems) fail(path, `takes at most ${spec.maxItems} items`);
      return raw.map((item, i) => checkValue(spec.item, item, `${path}[${i}]`));
    }
    default:
      throw new Error(`unknown field kind ${spec.kind}`);
  }
}

function defaultOf(spec) {
  if (spec.kind === "map") return fillFields(spec.fields, new Map(), "");
  return Array.isArray(spec.def) ? [...spec.def] : spec.def;
}

/** Validate the fields of `raw` (a Map) against `fields`; unknown fields are ignored. */
export function fillFields(fields, raw, path) {
  const out = {};
  for (const [name, spec] of Object.entries(fields)) {
    const value = raw.get(name);
    const where = path ? `${path}.${name}` : name;
    if (value === undefined || value === null) {
      if (spec.req) fail(where, "field required");
      out[name] = spec.opt ? null : defaultOf(spec);
    } else {
      out[name] = checkValue(spec, value, where);
    }
  }
  return out;
}
