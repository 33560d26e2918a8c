// Finding the ONNX export of a base model + LoRA config among the exports export_onnx wrote. The export's
// directory name is a digest the worker computes; its manifest records what it was made from, so the
// lookup reads manifests rather than recomputing the digest in a second language.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { MANIFEST_FILE, OnnxManifest } from './manifest';
import { AuditRuntimeError } from './runtime-error';

export interface ExportLora {
  rank: number;
  alpha: number;
  dropout: number;
  targets: string | string[];
}

function sameLora(a: ExportLora, b: ExportLora): boolean {
  return a.rank === b.rank && a.alpha === b.alpha && a.dropout === b.dropout && JSON.stringify(a.targets) === JSON.stringify(b.targets);
}

/** The export directory under `root` made from `baseModelId` and `lora`; EXPORT_NOT_FOUND when there is none. */
export function findExport(root: string, baseModelId: string, lora: ExportLora): string {
  let entries: fs.Dirent[] = [];
  try {
    entries = fs.readdirSync(root, { withFileTypes: true });
  } catch {
    // No export at all yet: the same answer as no matching one.
  }
  // Dot directories are exports still being written (the worker renames them when complete).
  for (const entry of entries) {
    if (!entry.isDirectory() || entry.name.startsWith('.')) continue;
    const dir = path.join(root, entry.name);
    let manifest: Pick<OnnxManifest, 'baseModelId' | 'lora'>;
    try {
      manifest = JSON.parse(fs.readFileSync(path.join(dir, MANIFEST_FILE), 'utf8'));
    } catch {
      continue;
    }
    if (manifest.baseModelId === baseModelId && manifest.lora && sameLora(manifest.lora, lora)) return dir;
  }
  throw new AuditRuntimeError('EXPORT_NOT_FOUND',
    `no ONNX export of ${baseModelId} with LoRA ${JSON.stringify(lora)} under ${root}: the lineage's first deletion request makes it ` +
    '(or run python -m lethe_worker.export_onnx, see docs/serving.md)');
}
