// @ts-check
/**
 * PDQ perceptual hash, computed in the submitter's own browser.
 *
 * Why this file exists: Haven never receives a submitter's photo, only its fingerprints,
 * so the PDQ hash must be computed on the device. No maintained JavaScript PDQ exists;
 * this is our own implementation written from the algorithm as published by Meta
 * (facebook/ThreatExchange, pdq/), and tests/web/ checks it bit for bit against the
 * `pdqhash` package (Meta's C++ via Cython) on the reference images.
 *
 * Pipeline: RGB -> luminance -> two-pass Jarosz tent filter -> decimate to 64x64
 * -> quality from image-domain gradients -> 16x16 corner of the 2D DCT-II
 * -> one bit per coefficient: above the median or not.
 *
 * The reference computes in 32-bit floats. We store every intermediate in a
 * Float32Array and round each arithmetic step with Math.fround, so the numbers we
 * threshold are the same numbers the reference thresholds; without that, coefficients
 * close to the median can land on the other side and flip bits.
 */

const f32 = Math.fround;

/** Images smaller than this on either side get the all-zero hash and quality 0 (as the reference). */
export const MIN_HASHABLE_DIM = 5;
/** The reference rejects PDQ hashes with quality below this. */
export const PDQ_MIN_QUALITY = 50;

const DOWNSAMPLED = 64;
const DCT_SIZE = 16;
const JAROSZ_PASSES = 2;

/**
 * @typedef {object} PdqResult
 * @property {string} hash     64 lower-case hex characters (256 bits), reference order.
 * @property {number} quality  0..100; below PDQ_MIN_QUALITY the hash is not trustworthy.
 */

/**
 * Hash an RGBA pixel buffer, as returned by CanvasRenderingContext2D.getImageData().
 * Alpha is ignored (as the reference, which hashes RGB).
 *
 * @param {Uint8ClampedArray|Uint8Array} rgba  width*height*4 bytes, row-major.
 * @param {number} width
 * @param {number} height
 * @returns {PdqResult}
 */
export function pdqFromRGBA(rgba, width, height) {
  checkDimensions(rgba.length, width, height, 4);
  return pdqFromLuma(lumaFromPixels(rgba, width, height, 4), width, height);
}

/**
 * Hash a packed RGB buffer (3 bytes per pixel), e.g. raw video frames from a decoder.
 *
 * @param {Uint8Array} rgb  width*height*3 bytes, row-major.
 * @param {number} width
 * @param {number} height
 * @returns {PdqResult}
 */
export function pdqFromRGB(rgb, width, height) {
  checkDimensions(rgb.length, width, height, 3);
  return pdqFromLuma(lumaFromPixels(rgb, width, height, 3), width, height);
}

/**
 * Hash a luminance image. The buffer is used as scratch space and is overwritten.
 *
 * @param {Float32Array} luma  width*height values, row-major.
 * @param {number} width
 * @param {number} height
 * @returns {PdqResult}
 */
export function pdqFromLuma(luma, width, height) {
  if (width < MIN_HASHABLE_DIM || height < MIN_HASHABLE_DIM) {
    return { hash: "0".repeat(64), quality: 0 };
  }
  const small = downsampleTo64(luma, width, height);
  const quality = gradientQuality(small);
  const coefficients = dct64To16(small);
  return { hash: bitsAboveMedianToHex(coefficients), quality };
}

/**
 * Number of differing bits between two PDQ hashes (hex strings of equal length).
 *
 * @param {string} a
 * @param {string} b
 * @returns {number}
 */
export function pdqDistance(a, b) {
  if (a.length !== b.length) {
    throw new Error(`PDQ hashes differ in length: ${a.length} vs ${b.length}`);
  }
  let distance = 0;
  for (let i = 0; i < a.length; i += 8) {
    let x = (parseInt(a.slice(i, i + 8), 16) ^ parseInt(b.slice(i, i + 8), 16)) >>> 0;
    while (x !== 0) {
      x &= x - 1;
      distance++;
    }
  }
  return distance;
}

/**
 * @param {number} length
 * @param {number} width
 * @param {number} height
 * @param {number} channels
 */
function checkDimensions(length, width, height, channels) {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 0 || height < 0) {
    throw new Error(`invalid image size ${width}x${height}`);
  }
  if (length !== width * height * channels) {
    throw new Error(
      `pixel buffer has ${length} bytes, expected ${width}x${height}x${channels} = ${width * height * channels}`,
    );
  }
}

/**
 * Y = 0.299 R + 0.587 G + 0.114 B, summed in double precision and stored as float32
 * (the order of operations of the `pdqhash` package, which we are checked against).
 *
 * @param {ArrayLike<number>} pixels
 * @param {number} width
 * @param {number} height
 * @param {number} channels
 * @returns {Float32Array}
 */
function lumaFromPixels(pixels, width, height, channels) {
  const n = width * height;
  const luma = new Float32Array(n);
  for (let p = 0, q = 0; p < n; p++, q += channels) {
    luma[p] = pixels[q] * 0.299 + pixels[q + 1] * 0.587 + pixels[q + 2] * 0.114;
  }
  return luma;
}

/**
 * Blur with a tent filter (two box passes per axis, Jarosz) and sample 64x64 pixel
 * centres. A 64x64 input is taken as already downsampled (video frames scaled by a decoder).
 *
 * @param {Float32Array} luma  overwritten
 * @param {number} width
 * @param {number} height
 * @returns {Float32Array} 64*64 values, row-major
 */
function downsampleTo64(luma, width, height) {
  if (width === DOWNSAMPLED && height === DOWNSAMPLED) {
    return Float32Array.from(luma);
  }
  const scratch = new Float32Array(luma.length);
  const windowAlongRows = tentWindowSize(width);
  const windowAlongCols = tentWindowSize(height);
  for (let pass = 0; pass < JAROSZ_PASSES; pass++) {
    for (let row = 0; row < height; row++) {
      boxFilter(luma, scratch, row * width, 1, width, windowAlongRows);
    }
    for (let col = 0; col < width; col++) {
      boxFilter(scratch, luma, col, width, height, windowAlongCols);
    }
  }
  const out = new Float32Array(DOWNSAMPLED * DOWNSAMPLED);
  for (let i = 0; i < DOWNSAMPLED; i++) {
    const srcRow = Math.trunc(((i + 0.5) * height) / DOWNSAMPLED);
    for (let j = 0; j < DOWNSAMPLED; j++) {
      const srcCol = Math.trunc(((j + 0.5) * width) / DOWNSAMPLED);
      out[i * DOWNSAMPLED + j] = luma[srcRow * width + srcCol];
    }
  }
  return out;
}

/**
 * Box width per pass: half of one output cell, rounded up, so the two passes together
 * span about one cell (1/64 of the dimension).
 *
 * @param {number} dimension
 * @returns {number}
 */
function tentWindowSize(dimension) {
  return Math.floor((dimension + 2 * DOWNSAMPLED - 1) / (2 * DOWNSAMPLED));
}

/**
 * Moving average of `window` samples centred on each output sample; at the edges the
 * window is truncated and the average is over the samples that exist.
 *
 * @param {Float32Array} src
 * @param {Float32Array} dst
 * @param {number} start   index of the first sample
 * @param {number} stride  distance between samples
 * @param {number} length  number of samples
 * @param {number} window  full window size (>= 1)
 */
function boxFilter(src, dst, start, stride, length, window) {
  // Samples of the window ahead of the centre: 3 for a window of 7 (3 behind),
  // 4 for a window of 8 (3 behind). The summation order (add the entering sample,
  // then drop the leaving one) is the reference's, which matters in float32.
  const ahead = Math.floor((window + 2) / 2) - 1;
  let sum = 0;
  let count = 0;
  let add = start; // next sample entering the window
  let drop = start; // next sample leaving the window
  const end = start + length * stride;
  for (let k = 0; k < ahead && add < end; k++, add += stride) {
    sum = f32(sum + src[add]);
    count++;
  }
  for (let out = start, o = 0; o < length; o++, out += stride) {
    if (add < end) {
      sum = f32(sum + src[add]);
      add += stride;
      if (count < window) {
        count++;
      } else {
        sum = f32(sum - src[drop]);
        drop += stride;
      }
    } else {
      sum = f32(sum - src[drop]);
      drop += stride;
      count--;
    }
    dst[out] = sum / count;
  }
}

/**
 * Count significant steps between neighbouring pixels of the 64x64 image: flat or
 * featureless images (whose hashes are noise) score low.
 *
 * @param {Float32Array} small  64x64
 * @returns {number} 0..100
 */
function gradientQuality(small) {
  let gradientSum = 0;
  for (let i = 0; i < DOWNSAMPLED; i++) {
    for (let j = 0; j < DOWNSAMPLED; j++) {
      const here = small[i * DOWNSAMPLED + j];
      if (i + 1 < DOWNSAMPLED) {
        gradientSum += Math.abs(scaledStep(here, small[(i + 1) * DOWNSAMPLED + j]));
      }
      if (j + 1 < DOWNSAMPLED) {
        gradientSum += Math.abs(scaledStep(here, small[i * DOWNSAMPLED + j + 1]));
      }
    }
  }
  return Math.min(100, Math.floor(gradientSum / 90));
}

/**
 * Difference of two luminances in percent of full scale, truncated toward zero.
 *
 * @param {number} u
 * @param {number} v
 * @returns {number}
 */
function scaledStep(u, v) {
  return Math.trunc(f32(f32(f32(u - v) * 100) / 255));
}

/**
 * Rows 1..16 of the 64-point DCT-II basis (row 0, the DC term, is not used by PDQ):
 * D[i][j] = sqrt(2/64) * cos(pi/128 * (i+1) * (2j+1)), rounded to float32.
 */
const DCT_BASIS = (() => {
  const scale = f32(Math.sqrt(2 / DOWNSAMPLED));
  const basis = new Float32Array(DCT_SIZE * DOWNSAMPLED);
  for (let i = 0; i < DCT_SIZE; i++) {
    for (let j = 0; j < DOWNSAMPLED; j++) {
      basis[i * DOWNSAMPLED + j] =
        scale * Math.cos((Math.PI / 2 / DOWNSAMPLED) * (i + 1) * (2 * j + 1));
    }
  }
  return basis;
})();

/**
 * The 16x16 low-frequency block (without DC) of the 2D DCT: B = D A D^T.
 *
 * @param {Float32Array} a  64x64 image
 * @returns {Float32Array} 16x16 coefficients, row-major
 */
function dct64To16(a) {
  const d = DCT_BASIS;
  const t = new Float32Array(DCT_SIZE * DOWNSAMPLED); // D A
  for (let i = 0; i < DCT_SIZE; i++) {
    for (let j = 0; j < DOWNSAMPLED; j++) {
      let sum = 0;
      for (let k = 0; k < DOWNSAMPLED; k++) {
        sum = f32(sum + f32(d[i * DOWNSAMPLED + k] * a[k * DOWNSAMPLED + j]));
      }
      t[i * DOWNSAMPLED + j] = sum;
    }
  }
  const b = new Float32Array(DCT_SIZE * DCT_SIZE); // (D A) D^T
  for (let i = 0; i < DCT_SIZE; i++) {
    for (let j = 0; j < DCT_SIZE; j++) {
      let sum = 0;
      for (let k = 0; k < DOWNSAMPLED; k++) {
        sum = f32(sum + f32(t[i * DOWNSAMPLED + k] * d[j * DOWNSAMPLED + k]));
      }
      b[i * DCT_SIZE + j] = sum;
    }
  }
  return b;
}

/**
 * Bit i*16+j is set when coefficient (i, j) is strictly above the median. For 256
 * values the median is the lower middle one (rank 128 of 256). Bit k lives in 16-bit
 * word k>>4 at position k&15; the hex string lists words 15..0, each as 4 hex digits,
 * the order of the reference's toHexString and of the `pdqhash` package's bit vector.
 *
 * @param {Float32Array} coefficients  16x16
 * @returns {string}
 */
function bitsAboveMedianToHex(coefficients) {
  const sorted = Float32Array.from(coefficients).sort();
  const median = sorted[(coefficients.length >> 1) - 1];
  let hex = "";
  for (let word = DCT_SIZE - 1; word >= 0; word--) {
    let bits = 0;
    for (let j = 0; j < DCT_SIZE; j++) {
      if (coefficients[word * DCT_SIZE + j] > median) {
        bits |= 1 << j;
      }
    }
    hex += bits.toString(16).padStart(4, "0");
  }
  return hex;
}
