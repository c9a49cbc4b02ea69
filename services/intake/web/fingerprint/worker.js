// @ts-check
/**
 * Web Worker entry point of the fingerprinting engine.
 *
 * Why this file exists: hashing a photo or a video's frames takes long enough to freeze
 * a phone's page, so it runs off the main thread. Nothing here talks to the network:
 * files go in, fingerprints come out, and the page decides what to send.
 *
 * Start it with: new Worker(new URL("./fingerprint/worker.js", import.meta.url), { type: "module" })
 *
 * MESSAGE PROTOCOL
 * Every request carries an `id` chosen by the page; every reply echoes it and `kind`.
 * Requests may be sent concurrently; replies for different ids may interleave.
 *
 * Requests (page -> worker):
 *   { id, kind: "image", file: File|Blob }
 *       Decodes the image here (createImageBitmap + OffscreenCanvas, EXIF orientation
 *       applied) and hashes it. Where the worker cannot decode (no OffscreenCanvas), the
 *       reply is an error and the page should decode on the main thread and send "pixels".
 *   { id, kind: "pixels", rgba: Uint8ClampedArray|ArrayBuffer, width, height }
 *       PDQ of already decoded pixels (getImageData().data). Transfer the buffer.
 *   { id, kind: "file-md5", file: File|Blob, chunkBytes?: number }
 *       MD5 of a whole file (e.g. a video), read in slices (default 4 MiB).
 *   { id, kind: "frames", frames: [{ rgba, width, height, timestamp }] }
 *       vPDQ hashes of video frames sampled by video-frames.js (one per second).
 *       Send frames in batches as they are sampled; transfer their buffers.
 *
 * Replies (worker -> page):
 *   { id, kind, type: "progress", stage: "md5"|"pdq"|"vpdq", done, total }
 *       md5: bytes read so far; pdq: 0/1 then 1/1; vpdq: frames hashed in this batch.
 *   { id, kind, type: "result", ... }
 *       image:    { md5, bytes, width, height, pdq, quality, usable }
 *       pixels:   { pdq, quality, usable }
 *       file-md5: { md5, bytes }
 *       frames:   { frames: [{ pdq, quality, timestamp }] }
 *       `pdq` is 64 hex characters; `usable` is false when quality < 50, which the
 *       intake API rejects (the page should say the picture is too plain to fingerprint).
 *   { id, kind, type: "error", message }
 *       The request failed; `message` is for the log, not for the submitter.
 */

import { runJob } from "./jobs.js";

const scope = /** @type {DedicatedWorkerGlobalScope & typeof globalThis} */ (self);

/**
 * Decode an image file to RGBA pixels inside the worker.
 *
 * @param {Blob} file
 * @returns {Promise<import("./jobs.js").DecodedImage>}
 */
async function decodeImage(file) {
  // from-image: apply EXIF orientation, as the reference hashes (Pillow exif_transpose).
  // colorSpaceConversion none: keep the file's own values, as Pillow does.
  const bitmap = await createImageBitmap(file, {
    imageOrientation: "from-image",
    colorSpaceConversion: "none",
    premultiplyAlpha: "none",
  });
  try {
    const { width, height } = bitmap;
    const canvas = new OffscreenCanvas(width, height);
    const context = /** @type {OffscreenCanvasRenderingContext2D} */ (
      canvas.getContext("2d", { willReadFrequently: true })
    );
    context.drawImage(bitmap, 0, 0);
    return { rgba: context.getImageData(0, 0, width, height).data, width, height };
  } finally {
    bitmap.close();
  }
}

const canDecode =
  typeof scope.createImageBitmap === "function" && typeof scope.OffscreenCanvas === "function";

scope.onmessage = (event) => {
  void runJob(event.data, {
    post: (message, transfer) => scope.postMessage(message, transfer ?? []),
    decodeImage: canDecode ? decodeImage : undefined,
  });
};
