// Test harness: MD5 of files with md5.js, two ways, one JSON object per line.
// Usage: node md5_harness.mjs CHUNK_BYTES FILE...
//   streamed:  md5OfBlob() over the file opened as a Blob (the browser's File.slice path)
//   irregular: Md5.update() fed chunks of awkward sizes (1, 63, 64, 65, 1000, ... bytes)
import { openAsBlob, readFileSync } from "node:fs";
import { Md5, md5OfBlob } from "../../services/intake/web/fingerprint/md5.js";

const [chunkArg, ...paths] = process.argv.slice(2);
const chunkBytes = Number(chunkArg);
const awkwardSizes = [1, 63, 64, 65, 1000, 3, 4096, 127];

for (const path of paths) {
  const progress = [];
  const streamed = await md5OfBlob(await openAsBlob(path), {
    chunkBytes,
    onProgress: (done, total) => progress.push([done, total]),
  });
  const bytes = readFileSync(path);
  const md5 = new Md5();
  for (let offset = 0, k = 0; offset < bytes.length; k++) {
    const size = awkwardSizes[k % awkwardSizes.length];
    md5.update(bytes.subarray(offset, offset + size));
    offset += size;
  }
  const irregular = md5.digest();
  process.stdout.write(JSON.stringify({ path, streamed, irregular, progress }) + "\n");
}
