// @ts-check
/**
 * Proof-of-work on the page: hand an ALTCHA challenge to pow-worker.js and wait for the
 * X-Altcha header value. One short-lived worker per challenge keeps the page responsive.
 */

import { altchaHeader } from "./pow-solver.js";

let nextId = 1;

/**
 * @param {import("./pow-solver.js").Challenge} challenge
 * @param {(done: number, total: number) => void} [onProgress]
 * @returns {Promise<string>}  the X-Altcha header value
 */
export function solveChallenge(challenge, onProgress) {
  const id = nextId++;
  const worker = new Worker(new URL("./pow-worker.js", import.meta.url), { type: "module" });
  return new Promise((resolve, reject) => {
    worker.onmessage = (event) => {
      const reply = event.data;
      if (reply.id !== id) {
        return;
      }
      if (reply.type === "progress") {
        onProgress?.(reply.done, reply.total);
        return;
      }
      worker.terminate();
      if (reply.type === "result") {
        onProgress?.(1, 1);
        resolve(altchaHeader(challenge, reply.number));
      } else {
        reject(new Error(reply.message));
      }
    };
    worker.onerror = (event) => {
      worker.terminate();
      reject(new Error(event.message || "the proof-of-work worker failed"));
    };
    worker.postMessage({ id, challenge });
  });
}
