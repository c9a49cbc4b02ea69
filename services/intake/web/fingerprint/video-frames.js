// @ts-check
/**
 * Sample a video's frames in the browser: one RGBA frame per second, for vPDQ.
 *
 * Why this file exists: the submitter's video is decoded by the browser's own <video>
 * element (no upload, no WebAssembly decoder to ship). We seek it to t = 0, 1, 2, ...
 * seconds, draw each frame on a canvas at its native size and read the pixels back.
 * This is the only DOM-dependent part of the fingerprinting engine; hashing the frames
 * (vpdq.js) is pure and can run in a Web Worker.
 *
 * Typical use on the page (hash in the worker so the page stays responsive):
 *   const video = document.createElement("video");
 *   video.src = URL.createObjectURL(file);
 *   for await (const frame of sampleVideoFrames(video, document.createElement("canvas"))) {
 *     worker.postMessage({ id, kind: "frames", frames: [frame] }, [frame.rgba.buffer]);
 *   }
 */

import { VPDQ_SECONDS_PER_FRAME } from "./vpdq.js";

/**
 * @typedef {import("./vpdq.js").RgbaFrame} RgbaFrame
 */

/**
 * @typedef {object} SampleOptions
 * @property {number} [secondsPerFrame]  default 1 (vPDQ's rate)
 * @property {AbortSignal} [signal]      stop sampling
 * @property {(done: number, total: number) => void} [onProgress]
 */

/**
 * Yield the frames at t = 0, s, 2s, ... (s = secondsPerFrame) while t < duration.
 * The video element must have a source; it is muted and paused while sampling.
 *
 * @param {HTMLVideoElement} video
 * @param {HTMLCanvasElement|OffscreenCanvas} canvas  scratch surface, resized as needed
 * @param {SampleOptions} [options]
 * @returns {AsyncGenerator<RgbaFrame>}
 */
export async function* sampleVideoFrames(video, canvas, options = {}) {
  const step = options.secondsPerFrame ?? VPDQ_SECONDS_PER_FRAME;
  video.muted = true;
  video.pause();
  await metadataLoaded(video);
  const duration = video.duration;
  if (!Number.isFinite(duration) || duration <= 0) {
    throw new Error("the video's duration is unknown, so it cannot be sampled");
  }
  const width = video.videoWidth;
  const height = video.videoHeight;
  canvas.width = width;
  canvas.height = height;
  const context = /** @type {CanvasRenderingContext2D} */ (
    canvas.getContext("2d", { willReadFrequently: true })
  );
  const total = Math.ceil(duration / step);
  for (let index = 0; index < total; index++) {
    options.signal?.throwIfAborted();
    const timestamp = index * step;
    await seek(video, timestamp);
    context.drawImage(video, 0, 0, width, height);
    const { data } = context.getImageData(0, 0, width, height);
    options.onProgress?.(index + 1, total);
    yield { rgba: data, width, height, timestamp };
  }
}

/**
 * @param {HTMLVideoElement} video
 * @returns {Promise<void>}
 */
function metadataLoaded(video) {
  if (video.readyState >= 1 /* HAVE_METADATA */) {
    return Promise.resolve();
  }
  return once(video, "loadedmetadata");
}

/**
 * Seek and wait until the frame at `time` can be drawn.
 *
 * @param {HTMLVideoElement} video
 * @param {number} time  seconds
 * @returns {Promise<void>}
 */
async function seek(video, time) {
  if (video.currentTime === time && video.readyState >= 2 /* HAVE_CURRENT_DATA */) {
    return;
  }
  const seeked = once(video, "seeked");
  video.currentTime = time;
  await seeked;
}

/**
 * Resolve on the first `name` event; reject if the video reports an error first.
 *
 * @param {HTMLVideoElement} video
 * @param {string} name
 * @returns {Promise<void>}
 */
function once(video, name) {
  return new Promise((resolve, reject) => {
    const cleanup = () => {
      video.removeEventListener(name, onEvent);
      video.removeEventListener("error", onError);
    };
    const onEvent = () => {
      cleanup();
      resolve();
    };
    const onError = () => {
      cleanup();
      reject(new Error(`the browser could not decode this video (${video.error?.message ?? "unknown error"})`));
    };
    video.addEventListener(name, onEvent);
    video.addEventListener("error", onError);
  });
}
