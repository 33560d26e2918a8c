// What the audit reads to probe inline profiles: the dataset's subjects and eval items (distractors and
// the never-seen reference) and the profiles themselves, from the step's decrypted forget-set file
// (contracts/forget-set.schema.json), which lives exactly as long as the step that audits them.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ProbeProfile, ProbeSubject, ProbeWorld, profileSubjectId } from '../domain/profile-probes';
import { contractValidator, describeSchemaError } from './contract-schemas';
import { loadEvalItems } from './eval-items';
import { AuditRuntimeError } from './runtime-error';

interface DatasetSubjects {
  subjects: Array<{ id: string; name: string; knowledge: string; portrait?: string | null }>;
}

interface ForgetSetFileDoc {
  subjects: Array<{ requestId: string; name: string; datasetSubjectId: string | null; images: string[]; facts: Array<{ question: string; answer: string }> }>;
}

function readJson(file: string, code: 'EVAL_ITEM_INVALID' | 'PROFILE_UNAVAILABLE', what: string): unknown {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    throw new AuditRuntimeError(code, `${what} ${file} cannot be read: ${(e as Error).message}`);
  }
}

/** The dataset's eval items and subjects, portraits as absolute paths. */
export function loadProbeWorld(datasetDir: string): ProbeWorld {
  const letheDir = path.join(datasetDir, 'lethe');
  const file = path.join(letheDir, 'subjects.json');
  const doc = readJson(file, 'EVAL_ITEM_INVALID', 'the dataset subjects');
  const validate = contractValidator<DatasetSubjects>('dataset.schema.json');
  if (!validate(doc)) {
    const { field, message } = describeSchemaError(validate.errors);
    throw new AuditRuntimeError('EVAL_ITEM_INVALID', `${file} at ${field}: ${message}`, field);
  }
  const subjects: ProbeSubject[] = doc.subjects.map((s) => ({
    id: s.id, name: s.name, knowledge: s.knowledge, portrait: s.portrait ? path.resolve(letheDir, s.portrait) : null,
  }));
  return { evalItems: loadEvalItems(datasetDir), subjects };
}

/** The inline profiles of `requestIds` from a forget-set file; each must be there (a purged one cannot be probed). */
export function loadInlineProfiles(forgetSetFile: string, requestIds: string[]): ProbeProfile[] {
  const doc = readJson(forgetSetFile, 'PROFILE_UNAVAILABLE', 'the forget-set file');
  const validate = contractValidator<ForgetSetFileDoc>('forget-set.schema.json');
  if (!validate(doc)) {
    const { field, message } = describeSchemaError(validate.errors);
    throw new AuditRuntimeError('PROFILE_UNAVAILABLE', `${forgetSetFile} at ${field}: ${message}`, field);
  }
  return requestIds.map((requestId) => {
    const subject = doc.subjects.find((s) => s.requestId === requestId && s.datasetSubjectId === null);
    if (!subject) throw new AuditRuntimeError('PROFILE_UNAVAILABLE', `request ${requestId} has no inline profile in ${forgetSetFile}`, 'inlineProfiles.requestIds');
    return { subjectId: profileSubjectId(requestId), name: subject.name, facts: subject.facts, images: subject.images };
  });
}
