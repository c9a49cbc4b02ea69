// @ts-check
/**
 * Turn the submitter's files into fingerprints on this device, through the engine's Web
 * Worker (../fingerprint/worker.js, whose message protocol is documented there).
 *
 * Photos: MD5 of the file and PDQ of the decoded pixels, both in the worker; if a browser
 * cannot decode inside a worker (no OffscreenCanvas), the page decodes and sends pixels.
 * Videos: MD5 of the whole file (streamed in slices, so a large video never sits in memory
 * at once), then one frame per second sampled through a <video> element and a canvas here
 * and hashed in the worker, one frame at a time so memory stays bounded.
 *
 * Progress is reported as a fraction 0..1 per file: for photos the MD5 is the first half
 * and the PDQ the second; for videos the MD5 is the first fifth and the frames the rest.
 */

import { sampleVideoFrames } from "../fingerprint/video-frames.js";

/**
 * What the page sends for one file: one item of the intake API's `items`.
 *
 * @typedef {{type: "image", pdq: string, quality: number, md5: string}} ImageFingerprints
 * @typedef {{pdq: string, quality: number, timestamp: number}} FrameFingerprint
 * @typedef {{type: "video", md5: string, frames: FrameFingerprint[]}} VideoFingerprints
 * @typedef {ImageFingerprints | VideoFingerprints} MediaFingerprints
 */

/**
 * A progress reply of the worker (its message protocol is documented in worker.js).
 *
 * @typedef {{id: number, kind: string, type: "progress", stage: "md5"|"pdq"|"vpdq", done: number, total: number}} ProgressReply
 */

/** The longest video hashed (seconds): the API's default frames-per-video limit at 1 fps. */
export const MAX_VIDEO_SECONDS = 7200;

export class FingerprintError extends Error {
  /**
   * @param {string} reason  an i18n key under "file." explaining it to the submitter
   * @param {string} detail  technical detail, never shown raw
   */
  constructor(reason, detail) {
    super(detail);
    this.reason = reason;
  }
}

export class Fingerprinter {
  constructor() {
    this.worker = new Worker(new URL("../fingerprint/worker.js", import.meta.url), { type: "module" });
    this.nextId = 1;
    /** @type {Map<number, {resolve: (reply: any) => void, reject: (error: Error) => void, onProgress?: (reply: ProgressReply) => void}>} */
    this.pending = new Map();
    this.worker.onmessage = (event) => this.receive(event.data);
    this.worker.onerror = (event) => {
      for (const job of this.pending.values()) {
        job.reject(new FingerprintError("file.failed", event.message || "worker failed"));
      }
      this.pending.clear();
    };
  }

  /**
   * `any`: whatever the worker posted; its shape depends on the request's kind (see worker.js).
   *
   * @param {any} reply
   */
  receive(reply) {
    const job = this.pending.get(reply.id);
    if (!job) {
      return;
    }
    if (reply.type === "progress") {
      job.onProgress?.(reply);
      return;
    }
    this.pending.delete(reply.id);
    if (reply.type === "result") {
      job.resolve(reply);
    } else {
      job.reject(new Error(reply.message));
    }
  }

  /**
   * @param {object} message
   * @param {Transferable[]} transfer
   * @param {(reply: ProgressReply) => void} [onProgress]
   * @returns {Promise<any>}  the worker's result reply, whose fields depend on `message.kind`
   */
  request(message, transfer = [], onProgress = undefined) {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject, onProgress });
      this.worker.postMessage({ ...message, id }, transfer);
    });
  }

  /**
   * Fingerprints of one file.
   *
   * @param {File} file
   * @param {(fraction: number) => void} onProgress
   * @returns {Promise<MediaFingerprints>}
   */
  async fingerprint(file, onProgress) {
    if (file.type.startsWith("image/")) {
      return this.image(file, onProgress);
    }
    if (file.type.startsWith("video/")) {
      return this.video(file, onProgress);
    }
    throw new FingerprintError("file.unsupported", `type ${file.type || "unknown"}`);
  }

  /**
   * @param {File} file
   * @param {(fraction: number) => void} onProgress
   * @returns {Promise<ImageFingerprints>}
   */
  async image(file, onProgress) {
    /** @param {ProgressReply} reply */
    const progress = (reply) => {
      const share = reply.total > 0 ? reply.done / reply.total : 0;
      onProgress(reply.stage === "md5" ? share / 2 : 0.5 + share / 2);
    };
    let result;
    try {
      result = await this.request({ kind: "image", file }, [], progress);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      if (!message.includes("send 'pixels'")) {
        throw new FingerprintError("file.unreadableImage", message);
      }
      result = await this.imageOnPage(file, progress);
    }
    onProgress(1);
    return { type: "image", pdq: result.pdq, quality: result.quality, md5: result.md5 };
  }

  /**
   * Decode on the page (for browsers without OffscreenCanvas in workers), hash in the worker.
   *
   * @param {File} file
   * @param {(reply: ProgressReply) => void} progress
   */
  async imageOnPage(file, progress) {
    const { md5 } = await this.request({ kind: "file-md5", file }, [], progress);
    let bitmap;
    try {
      bitmap = await createImageBitmap(file, { imageOrientation: "from-image", colorSpaceConversion: "none" });
    } catch (error) {
      throw new FingerprintError("file.unreadableImage", String(error));
    }
    const canvas = document.createElement("canvas");
    canvas.width = bitmap.width;
    canvas.height = bitmap.height;
    const context = /** @type {CanvasRenderingContext2D} */ (canvas.getContext("2d", { willReadFrequently: true }));
    context.drawImage(bitmap, 0, 0);
    bitmap.close();
    const { data } = context.getImageData(0, 0, canvas.width, canvas.height);
    const pixels = await this.request(
      { kind: "pixels", rgba: data, width: canvas.width, height: canvas.height },
      [data.buffer],
    );
    return { ...pixels, md5 };
  }

  /**
   * @param {File} file
   * @param {(fraction: number) => void} onProgress
   * @returns {Promise<VideoFingerprints>}
   */
  async video(file, onProgress) {
    const { md5 } = await this.request({ kind: "file-md5", file }, [], (reply) =>
      onProgress(reply.total > 0 ? (0.2 * reply.done) / reply.total : 0),
    );
    const video = document.createElement("video");
    video.preload = "auto";
    video.muted = true;
    video.playsInline = true;
    const url = URL.createObjectURL(file);
    video.src = url;
    /** @type {FrameFingerprint[]} */
    const frames = [];
    try {
      const canvas = document.createElement("canvas");
      const sampler = sampleVideoFrames(video, canvas, {
        onProgress: (done, total) => {
          if (total > MAX_VIDEO_SECONDS) {
            throw new FingerprintError("file.videoTooLong", `${total} s`);
          }
          onProgress(0.2 + (0.8 * done) / total);
        },
      });
      for await (const frame of sampler) {
        const reply = await this.request({ kind: "frames", frames: [frame] }, [frame.rgba.buffer]);
        frames.push(...reply.frames);
      }
    } catch (error) {
      if (error instanceof FingerprintError) {
        throw error;
      }
      throw new FingerprintError("file.unreadableVideo", error instanceof Error ? error.message : String(error));
    } finally {
      URL.revokeObjectURL(url);
      video.removeAttribute("src");
      video.load();
    }
    if (frames.length === 0) {
      throw new FingerprintError("file.unreadableVideo", "no frames");
    }
    onProgress(1);
    return { type: "video", md5, frames };
  }

  terminate() {
    this.worker.terminate();
    for (const job of this.pending.values()) {
      job.reject(new FingerprintError("file.cancelled", "cancelled"));
    }
    this.pending.clear();
  }
}
