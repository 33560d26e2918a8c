// Tokenizer and image processor of a llava-hf model directory, through transformers.js, used for
// preprocessing only (never its model classes), and only from local files: remote loading is off.
import { AutoImageProcessor, AutoTokenizer, env, RawImage } from '@huggingface/transformers';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { resizeLikePillow, shortestEdgeSize } from './pillow-resize';
import { AuditRuntimeError } from './runtime-error';

interface ResizeConfig {
  do_resize?: boolean;
  size?: { shortest_edge?: number; height?: number; width?: number } | number;
  resample?: number;
}

/** The size the image processor resizes an image to, or null when it does not resize. */
function resizeTarget(config: ResizeConfig, width: number, height: number): { width: number; height: number } | null {
  if (config.do_resize === false || config.size === undefined) return null;
  const size = typeof config.size === 'number' ? { shortest_edge: config.size } : config.size;
  if (size.shortest_edge) return shortestEdgeSize(width, height, size.shortest_edge);
  if (size.height && size.width) return { width: size.width, height: size.height };
  return null;
}

export interface Preprocessors {
  /** Token ids of a prompt, with the special tokens the tokenizer's post-processor adds (as in Python). */
  encode(text: string): number[];
  /** Text of token ids, special tokens left out (generation). */
  decode(ids: number[]): string;
  /** The end-of-sequence token generation stops at. */
  eosTokenId: number;
  /** Pixel values [3, H, W] (fp32, normalised) and their dims, of an image file or of an image's bytes (PNG, JPEG). */
  pixels(image: string | Uint8Array): Promise<{ data: Float32Array; dims: number[] }>;
}

export async function loadPreprocessors(modelDir: string): Promise<Preprocessors> {
  const dir = path.resolve(modelDir);
  for (const file of ['tokenizer.json', 'tokenizer_config.json', 'preprocessor_config.json']) {
    if (!fs.existsSync(path.join(dir, file))) {
      throw new AuditRuntimeError('MODEL_DIR_INVALID', `${dir} has no ${file} (a llava-hf model directory is needed)`, 'modelDir');
    }
  }
  // Never the hub: model ids resolve only against the local file system (absolute paths from /).
  env.allowRemoteModels = false;
  env.allowLocalModels = true;
  env.localModelPath = '/';
  const options = { local_files_only: true };
  const resizeConfig = JSON.parse(fs.readFileSync(path.join(dir, 'preprocessor_config.json'), 'utf8')) as ResizeConfig;
  let tokenizer: Awaited<ReturnType<typeof AutoTokenizer.from_pretrained>>;
  let imageProcessor: Awaited<ReturnType<typeof AutoImageProcessor.from_pretrained>>;
  try {
    tokenizer = await AutoTokenizer.from_pretrained(dir, options);
    imageProcessor = await AutoImageProcessor.from_pretrained(dir, options);
  } catch (e) {
    throw new AuditRuntimeError('MODEL_DIR_INVALID', `cannot load tokenizer/image processor from ${dir}: ${(e as Error).message}`, 'modelDir');
  }
  return {
    encode: (text) => tokenizer.encode(text),
    decode: (ids) => tokenizer.decode(ids, { skip_special_tokens: true }),
    eosTokenId: tokenizer.eos_token_id,
    async pixels(source) {
      let image: RawImage;
      try {
        image = typeof source === 'string' ? await RawImage.read(source) : await RawImage.fromBlob(new Blob([source]));
      } catch (e) {
        const what = typeof source === 'string' ? source : `of ${source.length} bytes`;
        throw new AuditRuntimeError('IMAGE_NOT_FOUND', `cannot read image ${what}: ${(e as Error).message}`, 'image');
      }
      image = image.rgb();
      // Resize as Pillow does (see pillow-resize.ts); the processor's own resize is then a no-op.
      const target = resizeTarget(resizeConfig, image.width, image.height);
      if (target && (target.width !== image.width || target.height !== image.height)) {
        const resized = resizeLikePillow(image.data as Uint8Array, image.width, image.height, 3, target.width, target.height,
          resizeConfig.resample ?? 2);
        image = new RawImage(resized, target.width, target.height, 3);
      }
      const { pixel_values: pixelValues } = await imageProcessor(image);
      return { data: pixelValues.data as Float32Array, dims: pixelValues.dims.slice(1) };
    },
  };
}
