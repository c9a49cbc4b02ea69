// Test harness: hash raw RGBA pixel files with pdq.js and print one JSON object per line.
// Usage: node pdq_harness.mjs manifest.json
// manifest.json: [{"name": ..., "path": ..., "width": ..., "height": ...}, ...]
// Exists so pytest can compare our JavaScript PDQ with the `pdqhash` package on the
// very same decoded pixels.
import { readFileSync } from "node:fs";
import { pdqFromRGBA } from "../../services/intake/web/fingerprint/pdq.js";

const manifest = JSON.parse(readFileSync(process.argv[2], "utf8"));
for (const image of manifest) {
  const rgba = new Uint8Array(readFileSync(image.path));
  const { hash, quality } = pdqFromRGBA(rgba, image.width, image.height);
  process.stdout.write(JSON.stringify({ name: image.name, hash, quality }) + "\n");
}
