// @ts-check
/**
 * vPDQ: a video's fingerprint is the PDQ hash of one frame per second, and two videos
 * match when enough of each one's frames are close to some frame of the other.
 *
 * Why this file exists: submitters' videos never leave their device, so the frame
 * hashes are computed in the browser; platforms then match them with Meta's vPDQ rule.
 * This module is the pure part (hash decoded frames, compare two frame lists), usable
 * in a Web Worker and in Node tests. Getting frames out of a <video> element is in
 * video-frames.js.
 *
 * Match rule (threatexchange's vPDQ brute-force matcher, the Python reference):
 *   1. drop frames with PDQ quality < 50, and frames whose hash repeats an earlier one;
 *   2. a frame matches when some frame of the other video is within 31 bits (<= 31);
 *   3. query% = matched query frames / query frames, target% likewise;
 *   4. the videos match when query% >= 80 and target% >= 80 (Haven's contract asks for
 *      both; threatexchange's default target threshold is 0).
 * Meta's C++ matcher (matchTwoHash.cpp) uses a strict "< tolerance" and does not drop
 * repeated hashes; with tolerance 31 that is one bit stricter than the rule above.
 */

import { PDQ_MIN_QUALITY, pdqDistance, pdqFromRGBA } from "./pdq.js";

/** Frames sampled per second of video (Meta's vPDQ default: seconds_per_hash = 1). */
export const VPDQ_SECONDS_PER_FRAME = 1;
export const VPDQ_DISTANCE_THRESHOLD = 31;
export const VPDQ_QUALITY_THRESHOLD = PDQ_MIN_QUALITY;
export const VPDQ_MATCH_PERCENT = 80;

/**
 * @typedef {object} VpdqFrame
 * @property {string} pdq        64 hex characters
 * @property {number} quality    0..100
 * @property {number} timestamp  seconds from the start of the video
 */

/**
 * @typedef {object} RgbaFrame
 * @property {Uint8ClampedArray|Uint8Array} rgba  width*height*4 bytes (getImageData().data)
 * @property {number} width
 * @property {number} height
 * @property {number} timestamp  seconds
 */

/**
 * Hash one decoded frame.
 *
 * @param {RgbaFrame} frame
 * @returns {VpdqFrame}
 */
export function vpdqFrame(frame) {
  const { hash, quality } = pdqFromRGBA(frame.rgba, frame.width, frame.height);
  return { pdq: hash, quality, timestamp: frame.timestamp };
}

/**
 * Hash a sequence of decoded frames (normally one per second).
 *
 * @param {Iterable<RgbaFrame>} frames
 * @param {(done: number) => void} [onFrame]  called after each frame
 * @returns {VpdqFrame[]}
 */
export function vpdqFromFrames(frames, onFrame) {
  const hashed = [];
  for (const frame of frames) {
    hashed.push(vpdqFrame(frame));
    onFrame?.(hashed.length);
  }
  return hashed;
}

/**
 * @typedef {object} VpdqMatchOptions
 * @property {number} [distanceThreshold]   max bits between matching frames (default 31)
 * @property {number} [qualityThreshold]    frames below this quality are ignored (default 50)
 * @property {number} [queryMatchPercent]   needed share of query frames (default 80)
 * @property {number} [targetMatchPercent]  needed share of target frames (default 80)
 */

/**
 * @typedef {object} VpdqMatchResult
 * @property {boolean} match
 * @property {number} queryMatchPercent   0..100: query frames with a close target frame
 * @property {number} targetMatchPercent  0..100: target frames with a close query frame
 */

/**
 * Compare two videos' frame hashes with the vPDQ rule (see the module comment).
 *
 * @param {VpdqFrame[]} query
 * @param {VpdqFrame[]} target
 * @param {VpdqMatchOptions} [options]
 * @returns {VpdqMatchResult}
 */
export function vpdqMatch(query, target, options = {}) {
  const distanceThreshold = options.distanceThreshold ?? VPDQ_DISTANCE_THRESHOLD;
  const qualityThreshold = options.qualityThreshold ?? VPDQ_QUALITY_THRESHOLD;
  const queryNeeded = options.queryMatchPercent ?? VPDQ_MATCH_PERCENT;
  const targetNeeded = options.targetMatchPercent ?? VPDQ_MATCH_PERCENT;

  const q = usableHashes(query, qualityThreshold);
  const t = usableHashes(target, qualityThreshold);
  if (q.length === 0 || t.length === 0) {
    return { match: false, queryMatchPercent: 0, targetMatchPercent: 0 };
  }
  const queryMatchPercent = (countMatched(q, t, distanceThreshold) * 100) / q.length;
  const targetMatchPercent = (countMatched(t, q, distanceThreshold) * 100) / t.length;
  return {
    match: queryMatchPercent >= queryNeeded && targetMatchPercent >= targetNeeded,
    queryMatchPercent,
    targetMatchPercent,
  };
}

/**
 * Parse the text form written by Meta's vpdq tools: one frame a line,
 * `frame_number,quality,pdq_hex,timestamp_seconds`.
 *
 * @param {string} text
 * @returns {VpdqFrame[]}
 */
export function parseVpdqText(text) {
  const frames = [];
  for (const [index, line] of text.split(/\r?\n/).entries()) {
    if (line.trim() === "") {
      continue;
    }
    const parts = line.split(",");
    const quality = Number(parts[1]);
    const pdq = (parts[2] ?? "").trim().toLowerCase();
    const timestamp = Number(parts[3]);
    if (parts.length !== 4 || !/^[0-9a-f]{64}$/.test(pdq) || !(quality >= 0 && quality <= 100) || !(timestamp >= 0)) {
      throw new Error(`line ${index + 1} is not a vPDQ frame: ${JSON.stringify(line)}`);
    }
    frames.push({ pdq, quality, timestamp });
  }
  return frames;
}

/**
 * Distinct hashes of the frames good enough to compare.
 *
 * @param {VpdqFrame[]} frames
 * @param {number} qualityThreshold
 * @returns {string[]}
 */
function usableHashes(frames, qualityThreshold) {
  const seen = new Set();
  for (const frame of frames) {
    if (frame.quality >= qualityThreshold) {
      seen.add(frame.pdq.toLowerCase());
    }
  }
  return [...seen];
}

/**
 * How many of `hashes` are within `threshold` bits of at least one of `others`.
 *
 * @param {string[]} hashes
 * @param {string[]} others
 * @param {number} threshold
 * @returns {number}
 */
function countMatched(hashes, others, threshold) {
  let count = 0;
  for (const hash of hashes) {
    if (others.some((other) => pdqDistance(hash, other) <= threshold)) {
      count++;
    }
  }
  return count;
}
