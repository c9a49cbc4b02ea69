// Test harness: run vpdq.js's matcher on pairs of frame lists read as JSON from stdin.
// stdin: [{"query": [frame...], "target": [frame...], "options": {...}?}, ...]
//   or   [{"queryText": "...", "target": [...]}] where *Text is Meta's vpdq text format.
// Prints one vpdqMatch() result per pair, one JSON object per line.
import { readFileSync } from "node:fs";
import { parseVpdqText, vpdqMatch } from "../../services/intake/web/fingerprint/vpdq.js";

const pairs = JSON.parse(readFileSync(0, "utf8"));
for (const pair of pairs) {
  const query = pair.queryText !== undefined ? parseVpdqText(pair.queryText) : pair.query;
  const target = pair.targetText !== undefined ? parseVpdqText(pair.targetText) : pair.target;
  process.stdout.write(JSON.stringify(vpdqMatch(query, target, pair.options ?? {})) + "\n");
}
