// Runs the protocol's golden vectors (protocol/vectors/vectors.json) through protocol.js.
// Valid vectors must decode to `decoded` and re-encode to the same message; canonical client
// vectors must re-encode to the same bytes unless they hold an integral float (JavaScript has one
// number type, so 1.0 is written as the integer 1, which the protocol accepts: section 2).
// Invalid vectors must be refused with their `error` code and `fatal` flag.

import { decodeMessage, encodeMessage, ProtocolError } from "./protocol.js";
import { WireFloat, readStrict } from "./msgpack-strict.js";

const hexToBytes = (hex) => new Uint8Array((hex.match(/../g) || []).map((h) => parseInt(h, 16)));
const bytesToHex = (bytes) => Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");

/** JSON form of a decoded message: bytes as {"$bytes": hex}, as in vectors.json. */
function jsonForm(value) {
  if (value instanceof Uint8Array) return { $bytes: bytesToHex(value) };
  if (Array.isArray(value)) return value.map(jsonForm);
  if (value && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, jsonForm(v)]));
  }
  return value;
}

/** The wire JSON form turned into an encodable object: {"$bytes": hex} → Uint8Array. */
function wireForm(value) {
  if (Array.isArray(value)) return value.map(wireForm);
  if (value && typeof value === "object") {
    if (Object.keys(value).length === 1 && typeof value.$bytes === "string") return hexToBytes(value.$bytes);
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, wireForm(v)]));
  }
  return value;
}

function sameJson(a, b) {
  if (Array.isArray(a) || Array.isArray(b)) {
    return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((x, i) => sameJson(x, b[i]));
  }
  if (a && b && typeof a === "object" && typeof b === "object") {
    const ka = Object.keys(a);
    return ka.length === Object.keys(b).length && ka.every((k) => Object.hasOwn(b, k) && sameJson(a[k], b[k]));
  }
  return a === b;
}

function holdsIntegralFloat(value) {
  if (value instanceof WireFloat) return Number.isInteger(value.value);
  if (value instanceof Map) return [...value.values()].some(holdsIntegralFloat);
  if (Array.isArray(value)) return value.some(holdsIntegralFloat);
  return false;
}

function checkValid(vector, payload) {
  const decoded = jsonForm(decodeMessage(payload, vector.direction));
  if (!sameJson(decoded, vector.decoded)) {
    return `decoded ${JSON.stringify(decoded)} != expected ${JSON.stringify(vector.decoded)}`;
  }
  const encoded = encodeMessage(wireForm(vector.wire));
  const again = jsonForm(decodeMessage(encoded, vector.direction));
  if (!sameJson(again, vector.decoded)) return `re-encoded message decodes to ${JSON.stringify(again)}`;
  if (vector.canonical && !holdsIntegralFloat(readStrict(payload)) && bytesToHex(encoded) !== vector.hex) {
    return `canonical bytes differ: ${bytesToHex(encoded)}`;
  }
  return null;
}

function checkInvalid(vector, payload, limits) {
  try {
    const got = decodeMessage(payload, vector.direction, limits);
    return `accepted as ${JSON.stringify(jsonForm(got))}, expected error ${vector.error}`;
  } catch (err) {
    if (!(err instanceof ProtocolError)) return `crashed: ${err}`;
    if (err.code !== vector.error) return `error ${err.code} (${err.message}), expected ${vector.error}`;
    if (err.fatal !== vector.fatal) return `fatal=${err.fatal}, expected ${vector.fatal}`;
    return null;
  }
}

/** Run every vector; returns {total, passed, failures: [{name, problem}]}. */
export function runVectors(document) {
  const failures = [];
  for (const vector of document.vectors) {
    const bytes = hexToBytes(vector.hex);
    const payload = vector.frame === "text" ? new TextDecoder().decode(bytes) : bytes;
    const limits = { ...document.default_limits, ...(vector.limits || {}) };
    let problem;
    try {
      problem = vector.error === undefined ? checkValid(vector, payload) : checkInvalid(vector, payload, limits);
    } catch (err) {
      problem = `threw ${err && err.code ? err.code + ": " : ""}${err && err.message}`;
    }
    if (problem) failures.push({ name: vector.name, problem });
  }
  return { total: document.vectors.length, passed: document.vectors.length - failures.length, failures };
}
