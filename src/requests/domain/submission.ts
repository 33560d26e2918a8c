import { AppError, InputError } from '../../common/errors';
import { canonicalJson } from '../../common/crypto';
import { ForgetSetImage } from './forget-set';
import { inspectImage } from './image-check';

export const MAX_IMAGES = 10;
export const MAX_IMAGE_BYTES = 5 * 1024 * 1024;
const MAX_FACTS = 200;
const MAX_TEXT = 4000;

export interface SubmissionInput {
  lineage: string;
  idempotencyKey: string;
  subject: {
    datasetSubjectId?: string | null;
    profile?: { name: string; images?: string[] | null; facts?: Array<{ question: string; answer: string }> | null } | null;
  };
  legalBasis: string;
  note?: string | null;
}

/** A submission that passed every check, with images decoded. Nothing is stored before this exists. */
export interface ValidSubmission {
  lineage: string;
  idempotencyKey: string;
  legalBasis: string;
  note: string | null;
  subject:
    | { kind: 'dataset'; datasetSubjectId: string }
    | { kind: 'profile'; name: string; images: ForgetSetImage[]; facts: Array<{ question: string; answer: string }> };
  /** Canonical form of what was asked, for the idempotency comparison. */
  canonicalPayload: string;
}

function text(value: unknown, field: string, { min = 1, max = MAX_TEXT } = {}): string {
  if (typeof value !== 'string') throw new InputError(field, 'must be a string');
  const trimmed = value.trim();
  if (trimmed.length < min) throw new InputError(field, min === 1 ? 'must not be empty' : `must be at least ${min} characters`);
  if (trimmed.length > max) throw new InputError(field, `must be at most ${max} characters`);
  return trimmed;
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** A base64 PNG or JPEG (a data: URL prefix allowed), bounded and checked; the chat endpoint takes images the same way. */
export function decodeImage(value: unknown, field: string): ForgetSetImage {
  if (typeof value !== 'string') throw new InputError(field, 'must be a base64 string');
  const data = value.replace(/^data:image\/(png|jpeg);base64,/, '').replace(/\s+/g, '');
  // Reject before decoding: base64 is 4/3 of the bytes.
  if (data.length > Math.ceil((MAX_IMAGE_BYTES * 4) / 3) + 4) throw new AppError('PAYLOAD_TOO_LARGE', `must be at most ${MAX_IMAGE_BYTES} bytes`, field);
  if (data.length === 0 || data.length % 4 !== 0 || !BASE64.test(data)) throw new InputError(field, 'is not valid base64');
  const bytes = Buffer.from(data, 'base64');
  if (bytes.length > MAX_IMAGE_BYTES) throw new AppError('PAYLOAD_TOO_LARGE', `must be at most ${MAX_IMAGE_BYTES} bytes, got ${bytes.length}`, field);
  const info = inspectImage(bytes);
  if (typeof info === 'string') throw new InputError(field, info);
  return { ...info, data };
}

/** Checks everything about a submission that needs no database, naming the field at fault. */
export function validateSubmission(input: SubmissionInput, root = 'input'): ValidSubmission {
  const lineage = text(input.lineage, `${root}.lineage`, { max: 100 });
  const idempotencyKey = text(input.idempotencyKey, `${root}.idempotencyKey`, { max: 200 });
  const legalBasis = text(input.legalBasis, `${root}.legalBasis`, { max: 500 });
  const note = input.note == null || input.note.trim() === '' ? null : text(input.note, `${root}.note`);
  const { datasetSubjectId, profile } = input.subject ?? {};
  const hasId = datasetSubjectId != null;
  const hasProfile = profile != null;
  if (hasId === hasProfile) throw new InputError(`${root}.subject`, 'must have exactly one of datasetSubjectId or profile');

  let subject: ValidSubmission['subject'];
  if (hasId) {
    subject = { kind: 'dataset', datasetSubjectId: text(datasetSubjectId, `${root}.subject.datasetSubjectId`, { max: 200 }) };
  } else {
    const at = `${root}.subject.profile`;
    const name = text(profile!.name, `${at}.name`, { max: 200 });
    const rawImages = profile!.images ?? [];
    if (rawImages.length > MAX_IMAGES) throw new AppError('PAYLOAD_TOO_LARGE', `at most ${MAX_IMAGES} images, got ${rawImages.length}`, `${at}.images`);
    const images = rawImages.map((image, i) => decodeImage(image, `${at}.images[${i}]`));
    const rawFacts = profile!.facts ?? [];
    if (rawFacts.length > MAX_FACTS) throw new AppError('PAYLOAD_TOO_LARGE', `at most ${MAX_FACTS} facts, got ${rawFacts.length}`, `${at}.facts`);
    const facts = rawFacts.map((fact, i) => ({
      question: text(fact?.question, `${at}.facts[${i}].question`),
      answer: text(fact?.answer, `${at}.facts[${i}].answer`),
    }));
    if (images.length === 0 && facts.length === 0) throw new InputError(at, 'needs at least one image or one fact: there is nothing to forget otherwise');
    subject = { kind: 'profile', name, images, facts };
  }
  const canonicalPayload = canonicalJson({
    lineage,
    legalBasis,
    note,
    subject: subject.kind === 'dataset' ? subject : { ...subject, images: subject.images.map((image) => image.data) },
  });
  return { lineage, idempotencyKey, legalBasis, note, subject, canonicalPayload };
}
