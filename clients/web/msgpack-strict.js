// Strict msgpack reader for the streamvoice protocol (PROTOCOL.md section 2).
//
// General-purpose msgpack libraries are lenient where the protocol is not: they accept
// duplicate map keys, integer keys, ext values and invalid UTF-8. This reader rejects all of
// those with a WireError, and keeps floats apart from integers (a float where an integer is
// expected is an error) by wrapping every msgpack float in a WireFloat. Integers beyond
// JavaScript's safe range come back as BigInt so that range checks can refuse them.
// Encoding is left to @msgpack/msgpack (see protocol.js).

export class WireError extends Error {}

/** A msgpack float32/float64 value, kept distinct from integers until validation. */
export class WireFloat {
  constructor(value) {
    this.value = value;
  }
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

class Reader {
  constructor(bytes) {
    this.bytes = bytes;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.pos = 0;
  }

  need(n) {
    if (this.pos + n > this.bytes.length) {
      throw new WireError(`truncated msgpack: need ${n} byte(s) at offset ${this.pos}`);
    }
    const at = this.pos;
    this.pos += n;
    return at;
  }

  u8() { return this.view.getUint8(this.need(1)); }
  u16() { return this.view.getUint16(this.need(2)); }
  u32() { return this.view.getUint32(this.need(4)); }

  int64(signed) {
    const at = this.need(8);
    const big = signed ? this.view.getBigInt64(at) : this.view.getBigUint64(at);
    const small = Number(big);
    return Number.isSafeInteger(small) ? small : big;
  }

  str(n) {
    const at = this.need(n);
    try {
      return utf8.decode(this.bytes.subarray(at, at + n));
    } catch {
      throw new WireError(`invalid UTF-8 in a string at offset ${at}`);
    }
  }

  bin(n) {
    const at = this.need(n);
    return this.bytes.slice(at, at + n);
  }

  array(n) {
    const out = [];
    for (let i = 0; i < n; i++) out.push(this.value());
    return out;
  }

  map(n) {
    const out = new Map();
    for (let i = 0; i < n; i++) {
      const keyAt = this.pos;
      const key = this.value();
      if (typeof key !== "string") throw new WireError(`map key at offset ${keyAt} is not a string`);
      if (out.has(key)) throw new WireError(`duplicate map key "${key}"`);
      out.set(key, this.value());
    }
    return out;
  }

  value() {
    const at = this.pos;
    const b = this.u8();
    if (b <= 0x7f) return b;
    if (b >= 0xe0) return b - 0x100;
    if (b >= 0x80 && b <= 0x8f) return this.map(b & 0x0f);
    if (b >= 0x90 && b <= 0x9f) return this.array(b & 0x0f);
    if (b >= 0xa0 && b <= 0xbf) return this.str(b & 0x1f);
    switch (b) {
      case 0xc0: return null;
      case 0xc2: return false;
      case 0xc3: return true;
      case 0xc4: return this.bin(this.u8());
      case 0xc5: return this.bin(this.u16());
      case 0xc6: return this.bin(this.u32());
      case 0xca: return new WireFloat(this.view.getFloat32(this.need(4)));
      case 0xcb: return new WireFloat(this.view.getFloat64(this.need(8)));
      case 0xcc: return this.u8();
      case 0xcd: return this.u16();
      case 0xce: return this.u32();
      case 0xcf: return this.int64(false);
      case 0xd0: return this.view.getInt8(this.need(1));
      case 0xd1: return this.view.getInt16(this.need(2));
      case 0xd2: return this.view.getInt32(this.need(4));
      case 0xd3: return this.int64(true);
      case 0xd9: return this.str(this.u8());
      case 0xda: return this.str(this.u16());
      case 0xdb: return this.str(this.u32());
      case 0xdc: return this.array(this.u16());
      case 0xdd: return this.array(this.u32());
      case 0xde: return this.map(this.u16());
      case 0xdf: return this.map(this.u32());
      case 0xc1: throw new WireError(`reserved byte 0xc1 at offset ${at}`);
      default: // 0xc7-0xc9 ext8/16/32, 0xd4-0xd8 fixext
        throw new WireError(`ext values are not used by the protocol (byte 0x${b.toString(16)} at offset ${at})`);
    }
  }
}

/**
 * Read exactly one msgpack object from `bytes` (a Uint8Array).
 * Maps come back as Map (string keys), floats as WireFloat, bin as Uint8Array.
 */
export function readStrict(bytes) {
  if (bytes.length === 0) throw new WireError("empty payload");
  const reader = new Reader(bytes);
  const value = reader.value();
  if (reader.pos !== bytes.length) {
    throw new WireError(`${bytes.length - reader.pos} trailing byte(s) after the msgpack object`);
  }
  return value;
}
