// @ts-check
/**
 * Solve an ALTCHA proof-of-work challenge: find `number` with
 * SHA-256(salt + number) == challenge, 0 <= number <= maxnumber.
 *
 * Why this file exists: Haven asks for a small proof of work instead of a third-party
 * CAPTCHA (which would send the submitter to another company). The solver is ours, so
 * no widget or CDN is needed; it runs in pow-worker.js, and is plain so Node can test it.
 */

import { sha256Into } from "./sha256.js";

const DEFAULT_MAX_NUMBER = 1_000_000;

/**
 * @typedef {object} Challenge
 * @property {string} algorithm   "SHA-256"
 * @property {string} challenge   hex digest to find
 * @property {number} [maxnumber]  upper bound of the search
 * @property {number} [maxNumber]  the same, as some ALTCHA servers spell it
 * @property {string} salt
 * @property {string} signature
 */

/**
 * @param {Challenge} challenge
 * @param {{onProgress?: (done: number, total: number) => void, progressEvery?: number}} [options]
 * @returns {number|null}  the number, or null if none in range (a broken challenge)
 */
export function solveSha256(challenge, options = {}) {
  if (challenge.algorithm !== "SHA-256") {
    throw new Error(`unsupported proof-of-work algorithm ${JSON.stringify(challenge.algorithm)}`);
  }
  const target = String(challenge.challenge).toLowerCase();
  const prefix = new TextEncoder().encode(challenge.salt);
  // ALTCHA servers spell it "maxnumber" (v1 JSON) or "maxNumber"; 1e6 is ALTCHA's default.
  const declared = challenge.maxnumber ?? challenge.maxNumber ?? DEFAULT_MAX_NUMBER;
  const max = Math.max(0, Math.floor(Number(declared) || 0));
  const every = options.progressEvery ?? 20000;
  // Room for the salt, up to 16 digits and SHA-256 padding.
  const buffer = new Uint8Array(Math.ceil((prefix.length + 16 + 9) / 64) * 64 + 64);
  buffer.set(prefix);
  const digits = new Uint8Array(16);
  for (let number = 0; number <= max; number++) {
    let length = prefix.length;
    let n = number;
    let count = 0;
    do {
      digits[count++] = 48 + (n % 10);
      n = Math.floor(n / 10);
    } while (n > 0);
    while (count > 0) {
      buffer[length++] = digits[--count];
    }
    if (sha256Into(buffer, length) === target) {
      return number;
    }
    if (options.onProgress && number % every === 0) {
      options.onProgress(number, max);
    }
  }
  return null;
}

/**
 * The X-Altcha header value for a solved challenge: base64 of the payload JSON.
 *
 * @param {Challenge} challenge
 * @param {number} number
 * @returns {string}
 */
export function altchaHeader(challenge, number) {
  const payload = JSON.stringify({
    algorithm: challenge.algorithm,
    challenge: challenge.challenge,
    number,
    salt: challenge.salt,
    signature: challenge.signature,
  });
  // The payload is ASCII (hex, digits and the salt's query string), so btoa is safe.
  return btoa(payload);
}
