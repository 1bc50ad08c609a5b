// streamvoice protocol v1 codec for the browser: one msgpack map per binary WebSocket message.
// Encoding uses @msgpack/msgpack; decoding uses the strict reader so that malformed frames get
// the protocol's error codes (PROTOCOL.md sections 2 and 10) in the order the spec gives.

import { encode as msgpackEncode } from "./node_modules/@msgpack/msgpack/dist.esm/index.mjs";
import { WireError, readStrict } from "./msgpack-strict.js";
import { CLIENT_MESSAGES, FieldError, SERVER_MESSAGES, fillFields } from "./schema.js";

export const PROTOCOL_VERSION = 1;
export const DEFAULT_LIMITS = Object.freeze({
  max_frame_bytes: 1048576,
  max_text_chars: 20000,
  max_messages_per_s: 200,
  max_audio_lead_ms: 2000,
  max_unread_ms: 10000,
  max_queued_bytes: 2097152,
});

/** A frame the receiver must refuse: `code` is the protocol error code, `fatal` as in section 10. */
export class ProtocolError extends Error {
  constructor(code, message, fatal) {
    super(message);
    this.code = code;
    this.fatal = fatal;
  }
}

const FATAL = { text_frame: true, bad_frame: true, frame_too_large: true };

function refuse(code, message) {
  return new ProtocolError(code, message, FATAL[code] === true);
}

/**
 * Encode a message object ({type, ...fields}) to msgpack bytes: `type` first, fields in the
 * order given, undefined and null fields left out (null means absent). Bytes are Uint8Array.
 */
export function encodeMessage(message) {
  const { type, ...fields } = message;
  const ordered = { type };
  for (const [key, value] of Object.entries(fields)) {
    if (value !== undefined && value !== null) ordered[key] = value;
  }
  return msgpackEncode(ordered, { ignoreUndefined: true });
}

/**
 * Decode one WebSocket message sent by `direction` ("server" or "client").
 * `payload` is an ArrayBuffer/Uint8Array for binary frames or a string for text frames.
 * Returns the message with every field present; throws ProtocolError otherwise.
 */
export function decodeMessage(payload, direction = "server", limits = DEFAULT_LIMITS) {
  if (typeof payload === "string") throw refuse("text_frame", "text frames are not allowed; send binary msgpack");
  const bytes = payload instanceof Uint8Array ? payload : new Uint8Array(payload);
  if (bytes.length > limits.max_frame_bytes) {
    throw refuse("frame_too_large", `frame of ${bytes.length} bytes exceeds max_frame_bytes ${limits.max_frame_bytes}`);
  }
  let raw;
  try {
    raw = readStrict(bytes);
  } catch (err) {
    if (err instanceof WireError) throw refuse("bad_frame", err.message);
    throw err;
  }
  if (!(raw instanceof Map)) throw refuse("bad_frame", "the payload is not a msgpack map");
  const type = raw.get("type");
  if (typeof type !== "string") throw refuse("invalid_field", "type: a string field is required");
  const table = direction === "client" ? CLIENT_MESSAGES : SERVER_MESSAGES;
  if (!Object.hasOwn(table, type)) throw refuse("unknown_type", `unknown ${direction} message type '${type}'`);
  try {
    return { type, ...fillFields(table[type], raw, type) };
  } catch (err) {
    if (err instanceof FieldError) throw refuse("invalid_field", err.message);
    throw err;
  }
}

// Builders for the messages this page sends (section 5).
export const hello = (options = {}) => ({ type: "hello", versions: [PROTOCOL_VERSION], ...options });
export const audio = (seq, data) => ({ type: "audio", seq, data });
export const audioEnd = (seq) => ({ type: "audio_end", seq });
export const text = (value, final = false) => ({ type: "text", text: value, final });
export const cancel = (turn) => ({ type: "cancel", turn });
export const flow = (turn, playedMs, bufferedMs) => ({
  type: "flow",
  turn,
  played_ms: playedMs,
  buffered_ms: bufferedMs,
});
export const configure = (options) => ({ type: "configure", ...options });
export const ping = (id) => ({ type: "ping", id });
export const bye = (reason = "") => ({ type: "bye", reason });
