// Solve ALTCHA challenges (JSON lines on stdin) with the page's own solver; print the
// X-Altcha header value per challenge, and SHA-256 of given strings for cross-checks.
import { readFileSync } from "node:fs";
import { altchaHeader, solveSha256 } from "../../services/intake/web/js/pow-solver.js";
import { sha256Hex } from "../../services/intake/web/js/sha256.js";

const request = JSON.parse(readFileSync(0, "utf8"));
for (const text of request.texts) {
  console.log(JSON.stringify({ text, sha256: sha256Hex(text) }));
}
for (const challenge of request.challenges) {
  const number = solveSha256(challenge);
  console.log(JSON.stringify({ number, header: number === null ? null : altchaHeader(challenge, number) }));
}
