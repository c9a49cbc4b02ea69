// @ts-check
/**
 * Web Worker that solves the proof-of-work off the page's main thread.
 *
 * Protocol: page -> worker `{ id, challenge }`; worker -> page
 * `{ id, type: "progress", done, total }`, then `{ id, type: "result", number }` or
 * `{ id, type: "error", message }`.
 */

import { solveSha256 } from "./pow-solver.js";

const scope = /** @type {DedicatedWorkerGlobalScope & typeof globalThis} */ (self);

scope.onmessage = (event) => {
  const { id, challenge } = event.data ?? {};
  try {
    const number = solveSha256(challenge, {
      onProgress: (done, total) => scope.postMessage({ id, type: "progress", done, total }),
    });
    if (number === null) {
      throw new Error("the challenge has no solution in range");
    }
    scope.postMessage({ id, type: "result", number });
  } catch (error) {
    scope.postMessage({ id, type: "error", message: error instanceof Error ? error.message : String(error) });
  }
};
