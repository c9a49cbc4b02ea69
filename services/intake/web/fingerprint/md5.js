// @ts-check
/**
 * MD5, incremental, for exact-match fingerprints of whole files.
 *
 * Why this file exists: platforms match known files by MD5, and a submitter's video
 * can be gigabytes, so the digest must be computed in the browser, chunk by chunk
 * (File.slice), without holding the file in memory. WebCrypto has no MD5 and no
 * streaming digest, so this is our own implementation of RFC 1321.
 *
 * Usage:
 *   const md5 = new Md5();
 *   md5.update(chunk1); md5.update(chunk2);   // Uint8Array or ArrayBuffer, any sizes
 *   md5.digest();                             // "9e107d9d372bb6826bd81d3542a419d6"
 *   await md5OfBlob(file, { onProgress });    // streamed over a File/Blob
 */

/** Per-step left-rotation amounts, four per round. */
const SHIFTS = [7, 12, 17, 22, 5, 9, 14, 20, 4, 11, 16, 23, 6, 10, 15, 21];

/** K[i] = floor(abs(sin(i + 1)) * 2^32), the RFC 1321 table, computed rather than pasted. */
const K = Uint32Array.from({ length: 64 }, (_, i) =>
  Math.floor(Math.abs(Math.sin(i + 1)) * 0x100000000),
);

/** Default chunk size when streaming a Blob: large enough to be fast, small enough for phones. */
export const DEFAULT_CHUNK_BYTES = 4 * 1024 * 1024;

export class Md5 {
  constructor() {
    /** @private */ this.state = new Uint32Array([0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476]);
    /** @private */ this.block = new Uint8Array(64);
    /** @private bytes waiting in `block` */ this.pending = 0;
    /** @private total bytes fed so far (exact up to 2^53) */ this.length = 0;
    /** @private */ this.words = new Uint32Array(16);
    /** @private */ this.finished = false;
  }

  /**
   * Feed more bytes.
   *
   * @param {Uint8Array|ArrayBuffer|ArrayBufferView} chunk
   * @returns {Md5} this, for chaining
   */
  update(chunk) {
    if (this.finished) {
      throw new Error("Md5.update() called after digest()");
    }
    const bytes = asBytes(chunk);
    this.length += bytes.length;
    let offset = 0;
    if (this.pending > 0) {
      const take = Math.min(64 - this.pending, bytes.length);
      this.block.set(bytes.subarray(0, take), this.pending);
      this.pending += take;
      offset = take;
      if (this.pending < 64) {
        return this;
      }
      this.compress(this.block, 0);
      this.pending = 0;
    }
    for (; offset + 64 <= bytes.length; offset += 64) {
      this.compress(bytes, offset);
    }
    this.block.set(bytes.subarray(offset), 0);
    this.pending = bytes.length - offset;
    return this;
  }

  /**
   * Finish and return the digest as 32 lower-case hex characters. The object cannot be
   * fed afterwards.
   *
   * @returns {string}
   */
  digest() {
    if (this.finished) {
      throw new Error("Md5.digest() called twice");
    }
    const bitLength = this.length * 8;
    // Padding: a single 1 bit, zeros up to 56 mod 64, then the bit length (64-bit, little-endian).
    const padLength = this.pending < 56 ? 56 - this.pending : 120 - this.pending;
    const tail = new Uint8Array(padLength + 8);
    tail[0] = 0x80;
    const view = new DataView(tail.buffer);
    view.setUint32(padLength, bitLength >>> 0, true);
    view.setUint32(padLength + 4, Math.floor(bitLength / 0x100000000), true);
    const length = this.length;
    this.update(tail);
    this.length = length;
    this.finished = true;
    let hex = "";
    for (const word of this.state) {
      for (let shift = 0; shift < 32; shift += 8) {
        hex += ((word >>> shift) & 0xff).toString(16).padStart(2, "0");
      }
    }
    return hex;
  }

  /**
   * Mix one 64-byte block into the state.
   *
   * @private
   * @param {Uint8Array} bytes
   * @param {number} offset
   */
  compress(bytes, offset) {
    const m = this.words;
    for (let i = 0; i < 16; i++) {
      const p = offset + i * 4;
      m[i] = bytes[p] | (bytes[p + 1] << 8) | (bytes[p + 2] << 16) | (bytes[p + 3] << 24);
    }
    let [a, b, c, d] = this.state;
    for (let i = 0; i < 64; i++) {
      const round = i >> 4;
      let f;
      let g;
      if (round === 0) {
        f = (b & c) | (~b & d);
        g = i;
      } else if (round === 1) {
        f = (d & b) | (~d & c);
        g = (5 * i + 1) & 15;
      } else if (round === 2) {
        f = b ^ c ^ d;
        g = (3 * i + 5) & 15;
      } else {
        f = c ^ (b | ~d);
        g = (7 * i) & 15;
      }
      const sum = (a + f + K[i] + m[g]) | 0;
      const shift = SHIFTS[round * 4 + (i & 3)];
      a = d;
      d = c;
      c = b;
      b = (b + ((sum << shift) | (sum >>> (32 - shift)))) | 0;
    }
    const s = this.state;
    s[0] += a;
    s[1] += b;
    s[2] += c;
    s[3] += d;
  }
}

/**
 * MD5 of a whole byte array, in one call.
 *
 * @param {Uint8Array|ArrayBuffer|ArrayBufferView} bytes
 * @returns {string}
 */
export function md5Hex(bytes) {
  return new Md5().update(bytes).digest();
}

/**
 * @typedef {object} StreamOptions
 * @property {number} [chunkBytes]  bytes read per step (default 4 MiB)
 * @property {(done: number, total: number) => void} [onProgress]  called after each chunk
 * @property {AbortSignal} [signal]  stop early (rejects with the signal's reason)
 */

/**
 * MD5 of a File or Blob, read in slices so memory stays bounded whatever the file size.
 *
 * @param {Blob} blob
 * @param {StreamOptions} [options]
 * @returns {Promise<string>}
 */
export async function md5OfBlob(blob, options = {}) {
  const chunkBytes = options.chunkBytes ?? DEFAULT_CHUNK_BYTES;
  if (!(chunkBytes > 0)) {
    throw new Error(`chunkBytes must be positive, got ${chunkBytes}`);
  }
  const md5 = new Md5();
  for (let start = 0; start < blob.size; start += chunkBytes) {
    options.signal?.throwIfAborted();
    const end = Math.min(start + chunkBytes, blob.size);
    md5.update(await blob.slice(start, end).arrayBuffer());
    options.onProgress?.(end, blob.size);
  }
  return md5.digest();
}

/**
 * @param {Uint8Array|ArrayBuffer|ArrayBufferView} chunk
 * @returns {Uint8Array}
 */
function asBytes(chunk) {
  if (chunk instanceof Uint8Array) {
    return chunk;
  }
  if (chunk instanceof ArrayBuffer) {
    return new Uint8Array(chunk);
  }
  if (ArrayBuffer.isView(chunk)) {
    return new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  }
  throw new TypeError("MD5 input must be bytes (Uint8Array, ArrayBuffer or a typed array view)");
}
