// Eval items of a dataset's canonical view: <dataset>/lethe/eval/*.jsonl, one
// contracts/eval-item.schema.json object per line, images relative to <dataset>/lethe/.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { EvalItem, EvalSplit } from '../domain/eval-item';
import { contractValidator, describeSchemaError } from './contract-schemas';
import { AuditRuntimeError } from './runtime-error';

/** An EvalItem with its image resolved to an absolute path (null for text-only questions). */
export interface RuntimeEvalItem extends EvalItem {
  imagePath: string | null;
}

interface DatasetSubjects {
  subjects: Array<{ id: string; knowledge: 'FINETUNED' | 'PRETRAINED' | 'NEVER_SEEN' }>;
}

/**
 * Questions of split never_seen are the reference every forgotten person is compared with: each must be
 * about a subject that lethe/subjects.json marks NEVER_SEEN, or the audit would compare with someone the
 * model may know.
 */
function checkNeverSeenItems(letheDir: string, neverSeen: Array<{ where: string; item: EvalItem }>): void {
  if (neverSeen.length === 0) return;
  const file = path.join(letheDir, 'subjects.json');
  let doc: unknown;
  try {
    doc = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    throw new AuditRuntimeError('EVAL_ITEM_INVALID', `questions of split never_seen need ${file} naming their subjects: ${(e as Error).message}`, 'subjectId');
  }
  const validate = contractValidator<DatasetSubjects>('dataset.schema.json');
  if (!validate(doc)) {
    const { field, message } = describeSchemaError(validate.errors);
    throw new AuditRuntimeError('EVAL_ITEM_INVALID', `${file} at ${field}: ${message}`, field);
  }
  const ids = new Set(doc.subjects.filter((s) => s.knowledge === 'NEVER_SEEN').map((s) => s.id));
  for (const { where, item } of neverSeen) {
    if (item.subjectId === null || !ids.has(item.subjectId)) {
      throw new AuditRuntimeError('EVAL_ITEM_INVALID', `${where}: never_seen item ${item.id} is about ${JSON.stringify(item.subjectId)}, not a NEVER_SEEN subject of lethe/subjects.json`, 'subjectId');
    }
  }
}

export function loadEvalItems(datasetDir: string, split?: EvalSplit): RuntimeEvalItem[] {
  const letheDir = path.join(datasetDir, 'lethe');
  const evalDir = path.join(letheDir, 'eval');
  if (!fs.existsSync(evalDir)) {
    throw new AuditRuntimeError('EVAL_SET_EMPTY', `${evalDir} does not exist: the dataset has no canonical lethe/ view`, 'datasetDir');
  }
  const validate = contractValidator<EvalItem>('eval-item.schema.json');
  const items: RuntimeEvalItem[] = [];
  const seen = new Set<string>();
  const neverSeen: Array<{ where: string; item: EvalItem }> = [];
  for (const file of fs.readdirSync(evalDir).filter((f) => f.endsWith('.jsonl')).sort()) {
    const lines = fs.readFileSync(path.join(evalDir, file), 'utf8').split('\n');
    lines.forEach((line, i) => {
      if (!line.trim()) return;
      const where = `${file}:${i + 1}`;
      let data: unknown;
      try {
        data = JSON.parse(line);
      } catch (e) {
        throw new AuditRuntimeError('EVAL_ITEM_INVALID', `${where} is not JSON: ${(e as Error).message}`);
      }
      if (!validate(data)) {
        const { field, message } = describeSchemaError(validate.errors);
        throw new AuditRuntimeError('EVAL_ITEM_INVALID', `${where} at ${field}: ${message}`, field);
      }
      if (data.modality === 'multimodal' && !data.image) {
        throw new AuditRuntimeError('EVAL_ITEM_INVALID', `${where}: multimodal item ${data.id} has no image`, 'image');
      }
      if (seen.has(data.id)) throw new AuditRuntimeError('EVAL_ITEM_INVALID', `${where}: duplicate item id ${data.id}`, 'id');
      seen.add(data.id);
      if (data.split === 'never_seen') neverSeen.push({ where, item: data });
      if (split && data.split !== split) return;
      items.push({ ...data, imagePath: data.image ? path.resolve(letheDir, data.image) : null });
    });
  }
  checkNeverSeenItems(letheDir, neverSeen);
  if (items.length === 0) {
    throw new AuditRuntimeError('EVAL_SET_EMPTY', `no eval items${split ? ` of split ${split}` : ''} in ${evalDir}`, 'datasetDir');
  }
  return items;
}
