// Image resizing that reproduces Pillow's Image.resize (Resample.c, 8 bits per channel) exactly.
//
// Why: the Python worker's image processor resizes with Pillow, while transformers.js in Node
// resizes with sharp's affine interpolation (no antialiasing), which gives different pixels when
// downscaling (e.g. the tiny model's 64x64 portraits to 32x32) and so different logits. Resizing
// here first hands transformers.js an image that already has the target size (its own resize is
// then a no-op) and both runtimes see the same pixels.

/** Pillow's resampling filter ids (PIL.Image.Resampling), as in preprocessor_config.json "resample". */
export const PIL_RESAMPLING = { LANCZOS: 1, BILINEAR: 2, BICUBIC: 3, BOX: 4, HAMMING: 5 } as const;

interface Filter {
  support: number;
  weight(x: number): number;
}

const sinc = (x: number): number => (x === 0 ? 1 : Math.sin(Math.PI * x) / (Math.PI * x));

const FILTERS: Record<number, Filter> = {
  [PIL_RESAMPLING.BOX]: { support: 0.5, weight: (x) => (x > -0.5 && x <= 0.5 ? 1 : 0) },
  [PIL_RESAMPLING.BILINEAR]: { support: 1, weight: (x) => (Math.abs(x) < 1 ? 1 - Math.abs(x) : 0) },
  [PIL_RESAMPLING.HAMMING]: {
    support: 1,
    weight: (x) => {
      const ax = Math.abs(x);
      if (ax === 0) return 1;
      if (ax >= 1) return 0;
      const px = ax * Math.PI;
      return (Math.sin(px) / px) * (0.54 + 0.46 * Math.cos(px));
    },
  },
  [PIL_RESAMPLING.BICUBIC]: {
    support: 2,
    weight: (x) => {
      const a = -0.5;
      const ax = Math.abs(x);
      if (ax < 1) return ((a + 2) * ax - (a + 3)) * ax * ax + 1;
      if (ax < 2) return (((ax - 5) * ax + 8) * ax - 4) * a;
      return 0;
    },
  },
  [PIL_RESAMPLING.LANCZOS]: { support: 3, weight: (x) => (x >= -3 && x < 3 ? sinc(x) * sinc(x / 3) : 0) },
};

// Pillow's fixed-point precision for 8-bit images.
const PRECISION_BITS = 32 - 8 - 2;
const ONE = 2 ** PRECISION_BITS;

interface Coefficients {
  ksize: number;
  /** Per output pixel: first input index and count. */
  bounds: Int32Array;
  /** Fixed-point weights, ksize per output pixel. */
  weights: Int32Array;
}

/** precompute_coeffs + normalize_coeffs_8bpc of Resample.c. */
function coefficients(inSize: number, outSize: number, filter: Filter): Coefficients {
  const scale = inSize / outSize;
  const filterScale = Math.max(scale, 1);
  const support = filter.support * filterScale;
  const ksize = Math.ceil(support) * 2 + 1;
  const bounds = new Int32Array(outSize * 2);
  const weights = new Int32Array(outSize * ksize);
  const k = new Float64Array(ksize);
  for (let xx = 0; xx < outSize; xx++) {
    const center = (xx + 0.5) * scale;
    const inverse = 1 / filterScale;
    const xmin = Math.max(Math.trunc(center - support + 0.5), 0);
    const xmax = Math.min(Math.trunc(center + support + 0.5), inSize) - xmin;
    let total = 0;
    for (let x = 0; x < xmax; x++) {
      k[x] = filter.weight((x + xmin - center + 0.5) * inverse);
      total += k[x];
    }
    for (let x = 0; x < xmax; x++) {
      const w = total !== 0 ? k[x] / total : k[x];
      weights[xx * ksize + x] = w < 0 ? Math.trunc(-0.5 + w * ONE) : Math.trunc(0.5 + w * ONE);
    }
    bounds[xx * 2] = xmin;
    bounds[xx * 2 + 1] = xmax;
  }
  return { ksize, bounds, weights };
}

function clip8(sum: number): number {
  if (sum >= ONE * 256) return 255;
  if (sum <= 0) return 0;
  return Math.floor(sum / ONE);
}

/**
 * Resizes interleaved 8-bit pixels (channels per pixel) like Pillow: a horizontal pass, then a
 * vertical pass, each rounded to 8 bits, with Pillow's antialiased filters.
 */
export function resizeLikePillow(pixels: Uint8Array | Uint8ClampedArray, width: number, height: number, channels: number,
  newWidth: number, newHeight: number, resample: number): Uint8Array {
  const filter = FILTERS[resample];
  if (!filter) throw new Error(`resampling filter ${resample} is not supported (supported: ${Object.keys(FILTERS).join(', ')})`);
  let src = Uint8Array.from(pixels);
  let srcWidth = width;
  const vertical = coefficients(height, newHeight, filter);
  // Only the input rows the vertical pass reads go through the horizontal pass (as in Pillow).
  const firstRow = vertical.bounds[0];
  const lastRow = vertical.bounds[newHeight * 2 - 2] + vertical.bounds[newHeight * 2 - 1];
  let rowOffset = 0;
  if (newWidth !== width) {
    const h = coefficients(width, newWidth, filter);
    const rows = lastRow - firstRow;
    const out = new Uint8Array(newWidth * rows * channels);
    for (let y = 0; y < rows; y++) {
      for (let xx = 0; xx < newWidth; xx++) {
        const xmin = h.bounds[xx * 2];
        const count = h.bounds[xx * 2 + 1];
        for (let c = 0; c < channels; c++) {
          let sum = ONE / 2;
          for (let x = 0; x < count; x++) sum += src[((y + firstRow) * width + x + xmin) * channels + c] * h.weights[xx * h.ksize + x];
          out[(y * newWidth + xx) * channels + c] = clip8(sum);
        }
      }
    }
    src = out;
    srcWidth = newWidth;
    rowOffset = firstRow;
  }
  if (newHeight === height) return src;
  const out = new Uint8Array(newWidth * newHeight * channels);
  for (let yy = 0; yy < newHeight; yy++) {
    const ymin = vertical.bounds[yy * 2] - rowOffset;
    const count = vertical.bounds[yy * 2 + 1];
    for (let x = 0; x < newWidth; x++) {
      for (let c = 0; c < channels; c++) {
        let sum = ONE / 2;
        for (let y = 0; y < count; y++) sum += src[((y + ymin) * srcWidth + x) * channels + c] * vertical.weights[yy * vertical.ksize + y];
        out[(yy * newWidth + x) * channels + c] = clip8(sum);
      }
    }
  }
  return out;
}

/** transformers' get_resize_output_image_size(default_to_square=False): the short edge becomes `shortestEdge`. */
export function shortestEdgeSize(width: number, height: number, shortestEdge: number): { width: number; height: number } {
  const [short, long] = width <= height ? [width, height] : [height, width];
  const newLong = Math.trunc((shortestEdge * long) / short);
  return width <= height ? { width: shortestEdge, height: newLong } : { width: newLong, height: shortestEdge };
}
