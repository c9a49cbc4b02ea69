// Test harness: drive worker.js (the real entry point, with a stand-in `self`) or
// jobs.js (with an injected image decoder) and print every message the worker posts.
// stdin: {"entry": "worker"|"jobs", "requests": [request...]} where, in a request,
//   "filePath": P      becomes  file: Blob of P
//   "rgbaPath": P      becomes  rgba: ArrayBuffer of P's bytes (also inside frames[])
//   with entry "jobs", kind "image" is decoded by reading `${filePath}.rgba` and the
//   request's width/height: a stand-in for the browser's createImageBitmap.
import { openAsBlob, readFileSync } from "node:fs";

const { entry, requests } = JSON.parse(readFileSync(0, "utf8"));
const posted = [];

/** @param {string} path */
const bytesOf = (path) => {
  const data = readFileSync(path);
  return data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength);
};

/** Which request each Blob came from, so the stand-in decoder can find its pixels. */
const origins = new WeakMap();

async function materialise(request) {
  const out = { ...request };
  if (request.filePath) {
    out.file = await openAsBlob(request.filePath);
    origins.set(out.file, request);
  }
  if (request.rgbaPath) out.rgba = bytesOf(request.rgbaPath);
  if (Array.isArray(request.frames)) {
    out.frames = request.frames.map((f) => ({ ...f, rgba: bytesOf(f.rgbaPath) }));
  }
  delete out.filePath;
  delete out.rgbaPath;
  return out;
}

const decodeImage = async (file) => {
  const { filePath, width, height } = origins.get(file);
  return { rgba: new Uint8Array(readFileSync(`${filePath}.rgba`)), width, height };
};

if (entry === "worker") {
  let pending = 0;
  let drained = () => {};
  globalThis.self = {
    postMessage: (message) => {
      posted.push(message);
      if (message.type !== "progress" && --pending === 0) drained();
    },
  };
  await import("../../services/intake/web/fingerprint/worker.js");
  const done = new Promise((resolve) => (drained = resolve));
  pending = requests.length;
  for (const request of requests) {
    globalThis.self.onmessage({ data: await materialise(request) });
  }
  await done;
} else {
  const { runJob } = await import("../../services/intake/web/fingerprint/jobs.js");
  for (const request of requests) {
    await runJob(await materialise(request), { post: (m) => posted.push(m), decodeImage });
  }
}
for (const message of posted) {
  process.stdout.write(JSON.stringify(message) + "\n");
}
