// @ts-check
/**
 * The fingerprinting jobs behind the Web Worker's message protocol (see worker.js).
 *
 * Why this file exists: worker.js only wires `self.onmessage`; the job logic lives here,
 * free of worker globals, so it can be tested under Node. Image decoding is passed in,
 * because it needs browser APIs (createImageBitmap, OffscreenCanvas).
 */

import { md5OfBlob } from "./md5.js";
import { PDQ_MIN_QUALITY, pdqFromRGBA } from "./pdq.js";
import { vpdqFrame } from "./vpdq.js";

/**
 * @typedef {object} DecodedImage
 * @property {Uint8ClampedArray|Uint8Array} rgba
 * @property {number} width
 * @property {number} height
 */

/**
 * @typedef {object} JobContext
 * @property {(message: object, transfer?: Transferable[]) => void} post  send to the page
 * @property {(file: Blob) => Promise<DecodedImage>} [decodeImage]  absent: 'image' jobs fail
 */

/**
 * Run one request and post its progress and its result (or an error). Never throws.
 *
 * @param {any} message  a request, as documented in worker.js
 * @param {JobContext} context
 * @returns {Promise<void>}
 */
export async function runJob(message, context) {
  const id = message?.id;
  const kind = message?.kind;
  /** @param {number} done @param {number} total @param {string} stage */
  const progress = (done, total, stage) =>
    context.post({ id, type: "progress", kind, stage, done, total });
  try {
    if (id === undefined || id === null) {
      throw new Error("request has no id");
    }
    const result = await dispatch(message, context, progress);
    context.post({ id, type: "result", kind, ...result });
  } catch (error) {
    const text = error instanceof Error ? error.message : String(error);
    context.post({ id, type: "error", kind, message: text });
  }
}

/**
 * @param {any} message
 * @param {JobContext} context
 * @param {(done: number, total: number, stage: string) => void} progress
 * @returns {Promise<object>}
 */
async function dispatch(message, context, progress) {
  switch (message.kind) {
    case "image":
      return imageJob(requireBlob(message.file), context, progress);
    case "file-md5": {
      const file = requireBlob(message.file);
      const md5 = await md5OfBlob(file, {
        chunkBytes: message.chunkBytes,
        onProgress: (done, total) => progress(done, total, "md5"),
      });
      return { md5, bytes: file.size };
    }
    case "pixels":
      return pdqResult(pdqFromRGBA(asPixels(message.rgba), message.width, message.height));
    case "frames":
      return { frames: framesJob(message.frames, progress) };
    default:
      throw new Error(`unknown request kind ${JSON.stringify(message.kind)}`);
  }
}

/**
 * PDQ and MD5 of an image file.
 *
 * @param {Blob} file
 * @param {JobContext} context
 * @param {(done: number, total: number, stage: string) => void} progress
 */
async function imageJob(file, context, progress) {
  if (!context.decodeImage) {
    throw new Error("image decoding is not available in this worker; send 'pixels' instead");
  }
  const md5 = await md5OfBlob(file, { onProgress: (done, total) => progress(done, total, "md5") });
  const image = await context.decodeImage(file);
  progress(0, 1, "pdq");
  const pdq = pdqFromRGBA(image.rgba, image.width, image.height);
  progress(1, 1, "pdq");
  return { md5, bytes: file.size, width: image.width, height: image.height, ...pdqResult(pdq) };
}

/**
 * @param {{hash: string, quality: number}} pdq
 */
function pdqResult(pdq) {
  return { pdq: pdq.hash, quality: pdq.quality, usable: pdq.quality >= PDQ_MIN_QUALITY };
}

/**
 * @param {any} frames
 * @param {(done: number, total: number, stage: string) => void} progress
 */
function framesJob(frames, progress) {
  if (!Array.isArray(frames)) {
    throw new Error("'frames' must be an array of {rgba, width, height, timestamp}");
  }
  return frames.map((frame, index) => {
    const hashed = vpdqFrame({ ...frame, rgba: asPixels(frame.rgba) });
    progress(index + 1, frames.length, "vpdq");
    return hashed;
  });
}

/**
 * @param {any} value
 * @returns {Blob}
 */
function requireBlob(value) {
  if (typeof Blob === "undefined" || !(value instanceof Blob)) {
    throw new Error("'file' must be a File or Blob");
  }
  return value;
}

/**
 * @param {any} value  Uint8ClampedArray, Uint8Array or a transferred ArrayBuffer
 * @returns {Uint8ClampedArray|Uint8Array}
 */
function asPixels(value) {
  if (value instanceof Uint8ClampedArray || value instanceof Uint8Array) {
    return value;
  }
  if (value instanceof ArrayBuffer) {
    return new Uint8Array(value);
  }
  throw new Error("'rgba' must be a Uint8ClampedArray, Uint8Array or ArrayBuffer");
}
