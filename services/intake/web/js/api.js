// @ts-check
/**
 * The intake API as the page uses it: same origin only, no cookies, JSON in and out.
 *
 * Every failure becomes an ApiProblem with the server's machine-readable `error` code
 * (or "network" when the request never got an answer), so the page can explain it in
 * the submitter's language. Creating a case and adding media need a solved
 * proof-of-work (pow.js); a retried create reuses its Idempotency-Key, so a lost answer
 * never opens two cases.
 */

import { solveChallenge } from "./pow.js";

export class ApiProblem extends Error {
  /**
   * @param {number} status  HTTP status, 0 for a network failure
   * @param {string} error   the server's error code, or "network" / "unexpected"
   * @param {string} message
   * @param {{field: string, message: string}[]} [fields]
   * @param {number|null} [retryAfter]  seconds, from Retry-After
   */
  constructor(status, error, message, fields = [], retryAfter = null) {
    super(message);
    this.status = status;
    this.error = error;
    this.fields = fields;
    this.retryAfter = retryAfter;
  }
}

/**
 * @param {string} path
 * @param {RequestInit} init
 * @returns {Promise<any>}
 */
async function call(path, init = {}) {
  let response;
  try {
    response = await fetch(path, {
      ...init,
      credentials: "omit",
      cache: "no-store",
      referrerPolicy: "no-referrer",
      headers: { Accept: "application/json", ...(init.headers ?? {}) },
    });
  } catch (error) {
    throw new ApiProblem(0, "network", error instanceof Error ? error.message : String(error));
  }
  let body = null;
  try {
    body = await response.json();
  } catch {
    body = null;
  }
  if (!response.ok) {
    const retry = Number.parseInt(response.headers.get("Retry-After") ?? "", 10);
    throw new ApiProblem(
      response.status,
      body?.error ?? "unexpected",
      body?.message ?? response.statusText,
      Array.isArray(body?.fields) ? body.fields : [],
      Number.isFinite(retry) ? retry : null,
    );
  }
  return body;
}

/** @param {string} secret */
function bearer(secret) {
  return { Authorization: `Bearer ${secret.trim()}` };
}

/** @param {string} caseNumber */
function casePath(caseNumber) {
  return `/v1/cases/${encodeURIComponent(caseNumber.trim())}`;
}

/**
 * Fetch a challenge and solve it; retry once with a fresh one if the server says the
 * proof was stale (expired or already used).
 *
 * @template T
 * @param {(altcha: string) => Promise<T>} send
 * @param {(done: number, total: number) => void} [onWork]
 * @returns {Promise<T>}
 */
async function withProofOfWork(send, onWork) {
  for (let attempt = 0; ; attempt++) {
    const challenge = await call("/v1/challenge");
    const altcha = await solveChallenge(challenge, onWork);
    try {
      return await send(altcha);
    } catch (error) {
      const stale = error instanceof ApiProblem && ["pow_invalid", "pow_replayed"].includes(error.error);
      if (!stale || attempt >= 1) {
        throw error;
      }
    }
  }
}

/**
 * Open a case. Network failures are retried with the same Idempotency-Key.
 *
 * @param {object[]} items  Media bodies (fingerprints only)
 * @param {(done: number, total: number) => void} [onWork]
 * @returns {Promise<{case_number: string, secret: string, media: {media_id: string, type: string}[]}>}
 */
export function createCase(items, onWork) {
  const idempotencyKey = crypto.randomUUID();
  const body = JSON.stringify({ items });
  return withProofOfWork(async (altcha) => {
    for (let attempt = 0; ; attempt++) {
      try {
        return await call("/v1/cases", {
          method: "POST",
          headers: { "Content-Type": "application/json", "X-Altcha": altcha, "Idempotency-Key": idempotencyKey },
          body,
        });
      } catch (error) {
        if (!(error instanceof ApiProblem && error.error === "network") || attempt >= 2) {
          throw error;
        }
      }
    }
  }, onWork);
}

/**
 * @param {string} caseNumber
 * @param {string} secret
 * @param {object[]} items
 * @param {(done: number, total: number) => void} [onWork]
 */
export function addMedia(caseNumber, secret, items, onWork) {
  return withProofOfWork(
    (altcha) =>
      call(`${casePath(caseNumber)}/media`, {
        method: "POST",
        headers: { "Content-Type": "application/json", "X-Altcha": altcha, ...bearer(secret) },
        body: JSON.stringify({ items }),
      }),
    onWork,
  );
}

/**
 * @param {string} caseNumber
 * @param {string} secret
 */
export function caseStatus(caseNumber, secret) {
  return call(casePath(caseNumber), { headers: bearer(secret) });
}

/**
 * @param {string} caseNumber
 * @param {string} secret
 */
export function withdrawCase(caseNumber, secret) {
  return call(casePath(caseNumber), { method: "DELETE", headers: bearer(secret) });
}
