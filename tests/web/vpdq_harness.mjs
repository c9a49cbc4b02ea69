// Test harness: vPDQ-hash raw RGBA frames with vpdq.js; prints one JSON frame per line.
// Usage: node vpdq_harness.mjs FRAMES.rgba WIDTH HEIGHT SECONDS_PER_FRAME
//   FRAMES.rgba: frames back to back, WIDTH*HEIGHT*4 bytes each (ffmpeg -pix_fmt rgba)
import { readFileSync } from "node:fs";
import { vpdqFromFrames } from "../../services/intake/web/fingerprint/vpdq.js";

const [framesPath, widthArg, heightArg, stepArg] = process.argv.slice(2);
const width = Number(widthArg);
const height = Number(heightArg);
const step = Number(stepArg);
const raw = new Uint8Array(readFileSync(framesPath));
const frameBytes = width * height * 4;
if (raw.length === 0 || raw.length % frameBytes !== 0) {
  throw new Error(`${raw.length} bytes is not a whole number of ${width}x${height} RGBA frames`);
}

function* frames() {
  for (let index = 0; index * frameBytes < raw.length; index++) {
    const rgba = raw.subarray(index * frameBytes, (index + 1) * frameBytes);
    yield { rgba, width, height, timestamp: index * step };
  }
}

for (const frame of vpdqFromFrames(frames())) {
  process.stdout.write(JSON.stringify(frame) + "\n");
}
