// Tokenizer and image processor of a llava-hf model directory, through transformers.js, used for
// preprocessing only (never its model classes), and only from local files: remote loading is off.
import { AutoImageProcessor, AutoTokenizer, env, RawImage } from '@huggingface/transformers';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { AuditRuntimeError } from './runtime-error';

export interface Preprocessors {
  /** Token ids of a prompt, with the special tokens the tokenizer's post-processor adds (as in Python). */
  encode(text: string): number[];
  /** Pixel values [3, H, W] (fp32, normalised) and their dims. */
  pixels(imagePath: string): Promise<{ data: Float32Array; dims: number[] }>;
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
    async pixels(imagePath) {
      let image: RawImage;
      try {
        image = await RawImage.read(imagePath);
      } catch (e) {
        throw new AuditRuntimeError('IMAGE_NOT_FOUND', `cannot read image ${imagePath}: ${(e as Error).message}`, 'image');
      }
      const { pixel_values: pixelValues } = await imageProcessor(image);
      return { data: pixelValues.data as Float32Array, dims: pixelValues.dims.slice(1) };
    },
  };
}
