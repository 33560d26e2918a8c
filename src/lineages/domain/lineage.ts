import { AppError, ErrorCode, InputError } from '../../common/errors';
import { ASCENT_OBJECTIVES, KL_REFERENCES, type HyperParameters, type LoraConfig, type UnlearnMethod } from '../../orchestration/contracts';

export class LineageError extends AppError {
  constructor(code: ErrorCode, message: string, field?: string) {
    super(code, message, field);
  }
}

export const STRATEGIES = ['SEQUENTIAL', 'CUMULATIVE'] as const;
export type Strategy = (typeof STRATEGIES)[number];
export const METHODS: readonly UnlearnMethod[] = ['ga', 'ga_klr', 'npo', 'graddiff'];
export const VERSION_STATUSES = ['CANDIDATE', 'PROMOTED', 'REJECTED', 'ROLLED_BACK', 'SUPERSEDED'] as const;
export type VersionStatus = (typeof VERSION_STATUSES)[number];
/** How the model knows a dataset person: learned in fine-tuning, in pre-training, or never trained on (the reference
 * a forgotten person is compared with; contracts/dataset.schema.json). */
export const KNOWLEDGE = ['FINETUNED', 'PRETRAINED', 'NEVER_SEEN'] as const;
export type Knowledge = (typeof KNOWLEDGE)[number];

export interface ModelLineage {
  name: string;
  baseModel: { path: string; id: string };
  datasetPath: string;
  lora: LoraConfig;
  strategy: Strategy;
  method: UnlearnMethod;
  hyperParameters: HyperParameters;
  batchingWindowSeconds: number;
  /**
   * After a candidate's audit, up to this many more unlearning passes on the forgotten dataset people the audit
   * still finds above reforgetAboveAccuracy in either modality; the last is gated, unless it fails the gate where the
   * one it continues passed. 0: none.
   */
  reforgetPasses: number;
  reforgetAboveAccuracy: number;
  /** Validated by src/audits/domain/gate-policy.ts; `gatePolicy.version` equals gatePolicyVersion. */
  gatePolicy: Record<string, unknown>;
  gatePolicyVersion: number;
  championVersion: number | null;
  createdAt: Date;
}

export interface ModelVersion {
  id: string;
  lineage: string;
  number: number;
  parentNumber: number | null;
  /** null for version 0, the base model without adapter. */
  adapterUri: string | null;
  adapterSha256: string | null;
  method: string | null;
  hyperParameters: Record<string, unknown> | null;
  requestIds: string[];
  /** Dataset subjects the re-forget passes that led to this version trained on (their hold moves here); empty without re-forgetting. */
  reforgottenSubjectIds: string[];
  status: VersionStatus;
  statusReason: string | null;
  createdAt: Date;
}

export interface DatasetSubject {
  lineage: string;
  id: string;
  name: string;
  knowledge: Knowledge;
}

export const LINEAGE_NAME = /^[a-z0-9][a-z0-9._-]{0,62}$/;

// New lineages re-forget: in the PULSE benchmark it met the goal per request (2 seeds), and through the service
// (bench:e2e, 5 steps of 10 people, two samples) it forgot more on both, for about twice the time; what kept the
// steps promoted there is the general KL, with or without passes (notes, sessions 20-22).
// Existing lineages keep 0 (the migration's column default).
export const DEFAULT_REFORGET_PASSES = 3;
export const MAX_REFORGET_PASSES = 5;
// A pass takes whoever the audit finds above this accuracy. At the PULSE goal itself (0.40, what lineages created before
// the setting keep), the people at the goal's edge stayed there. Aiming at 0.20, a person with 2 of 5 right gets another
// pass too: through the service (5 steps of 10 people, two builds) everyone forgotten went from 0.17-0.20 / 0.19-0.22 to
// 0.08-0.14 / 0.15, retain was kept at least as well, and the steps took 44-68 % longer (docs/tiny-model-notes.md, session 24).
export const DEFAULT_REFORGET_ABOVE_ACCURACY = 0.2;

export const DEFAULT_LORA: LoraConfig = { rank: 8, alpha: 16, dropout: 0, targets: 'projector+llm' };
export const DEFAULT_METHOD: UnlearnMethod = 'ga_klr';
// ga_klr with a floored ascent (ascentFloor): a forget token below 5 % probability is no longer pushed
// down, which is what keeps retained people above the default gate (docs/tiny-model-notes.md, session 6).
// The retain KL anchors to version 0 (klReference "base"): anchored to the parent, the drift of earlier
// requests added up (session 7). holdForgottenWeight 1 holds the people of earlier requests where the version
// that forgot them had them: without it, they came partly back and the 4th sequential request of bench:e2e went to review
// in 2 of 2 samples of 5 people; with it, 10 of 10 were promoted on the first attempt (session 12).
export const DEFAULT_HYPER_PARAMETERS: HyperParameters = { learningRate: 1e-3, epochs: 12, batchSize: 4, ascentFloor: 0.05, klReference: 'base', holdForgottenWeight: 1 };
// On a dataset with general training questions (lethe/train/general.jsonl), a KL to version 0 on them: with it 20 of 20
// sequential steps of 10 people were promoted (two samples, with and without re-forgetting); without it the 5th step
// went to review in 3 of 4 runs (docs/tiny-model-notes.md, session 22).
export const DEFAULT_GENERAL_KL_WEIGHT = 1;

/** The defaults for a lineage on a dataset that has general training questions or not. */
export function defaultHyperParameters(hasGeneralQuestions: boolean): HyperParameters {
  return hasGeneralQuestions ? { ...DEFAULT_HYPER_PARAMETERS, generalKlWeight: DEFAULT_GENERAL_KL_WEIGHT } : DEFAULT_HYPER_PARAMETERS;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function number(value: unknown, field: string, check: (n: number) => boolean, expectation: string, integer = false): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || (integer && !Number.isInteger(value)) || !check(value)) {
    throw new InputError(field, `must be ${integer ? 'an integer' : 'a number'} ${expectation}, got ${JSON.stringify(value)}`);
  }
  return value;
}

/** A lineage's reforgetAboveAccuracy: absent takes the default of new lineages. */
export function parseReforgetAboveAccuracy(value: number | null | undefined, field: string): number {
  return number(value ?? DEFAULT_REFORGET_ABOVE_ACCURACY, field, (n) => n >= 0 && n < 1, 'from 0 up to (not including) 1');
}

function oneOf<T extends string>(value: unknown, field: string, allowed: readonly T[]): T {
  if (!allowed.includes(value as T)) throw new InputError(field, `must be one of ${allowed.join(', ')}, got ${JSON.stringify(value)}`);
  return value as T;
}

function onlyKeys(value: Record<string, unknown>, allowed: string[], field: string): void {
  for (const key of Object.keys(value)) if (!allowed.includes(key)) throw new InputError(`${field}.${key}`, `unknown field (allowed: ${allowed.join(', ')})`);
}

/** Mirrors contracts/lora.schema.json, with errors naming the field. */
export function parseLora(value: unknown, field: string): LoraConfig {
  if (value == null) return DEFAULT_LORA;
  if (!isObject(value)) throw new InputError(field, 'must be an object');
  onlyKeys(value, ['rank', 'alpha', 'dropout', 'targets'], field);
  const merged = { ...DEFAULT_LORA, ...value };
  const targets = merged.targets;
  const presetOk = targets === 'llm' || targets === 'projector+llm';
  const listOk = Array.isArray(targets) && targets.length > 0 && targets.every((t) => typeof t === 'string' && t.length > 0);
  if (!presetOk && !listOk) throw new InputError(`${field}.targets`, 'must be "llm", "projector+llm" or a non-empty list of module-name suffixes');
  return {
    rank: number(merged.rank, `${field}.rank`, (n) => n >= 1 && n <= 256, 'from 1 to 256', true),
    alpha: number(merged.alpha, `${field}.alpha`, (n) => n > 0, 'above 0'),
    dropout: number(merged.dropout, `${field}.dropout`, (n) => n >= 0 && n <= 0.9, 'from 0 to 0.9'),
    targets: targets as LoraConfig['targets'],
  };
}

/** Mirrors the hyperParameters of contracts/unlearn.input.schema.json; the given fields are merged over `defaults` (defaultHyperParameters). */
export function parseHyperParameters(value: unknown, field: string, defaults: HyperParameters): HyperParameters {
  if (value == null) return defaults;
  if (!isObject(value)) throw new InputError(field, 'must be an object');
  onlyKeys(value, ['learningRate', 'epochs', 'batchSize', 'maxSteps', 'npoBeta', 'klWeight', 'retainWeight', 'ascentFloor', 'ascentObjective', 'klReference', 'holdForgottenWeight', 'generalKlWeight'], field);
  const merged = { ...defaults, ...value } as Record<string, unknown>;
  const out: HyperParameters = {
    learningRate: number(merged.learningRate, `${field}.learningRate`, (n) => n > 0, 'above 0'),
    epochs: number(merged.epochs, `${field}.epochs`, (n) => n >= 1, '>= 1', true),
    batchSize: number(merged.batchSize, `${field}.batchSize`, (n) => n >= 1, '>= 1', true),
  };
  if (merged.maxSteps !== undefined) out.maxSteps = number(merged.maxSteps, `${field}.maxSteps`, (n) => n >= 1, '>= 1', true);
  if (merged.npoBeta !== undefined) out.npoBeta = number(merged.npoBeta, `${field}.npoBeta`, (n) => n > 0, 'above 0');
  if (merged.klWeight !== undefined) out.klWeight = number(merged.klWeight, `${field}.klWeight`, (n) => n >= 0, '>= 0');
  if (merged.retainWeight !== undefined) out.retainWeight = number(merged.retainWeight, `${field}.retainWeight`, (n) => n >= 0, '>= 0');
  if (merged.ascentFloor !== undefined) out.ascentFloor = number(merged.ascentFloor, `${field}.ascentFloor`, (n) => n >= 0 && n < 1, 'from 0 up to (not including) 1');
  if (merged.holdForgottenWeight !== undefined) out.holdForgottenWeight = number(merged.holdForgottenWeight, `${field}.holdForgottenWeight`, (n) => n >= 0, '>= 0');
  if (merged.generalKlWeight !== undefined) out.generalKlWeight = number(merged.generalKlWeight, `${field}.generalKlWeight`, (n) => n >= 0, '>= 0');
  if (merged.ascentObjective !== undefined) out.ascentObjective = oneOf(merged.ascentObjective, `${field}.ascentObjective`, ASCENT_OBJECTIVES);
  if (merged.klReference !== undefined) {
    out.klReference = oneOf(merged.klReference, `${field}.klReference`, KL_REFERENCES);
  }
  return out;
}

export function parseMethod(value: unknown, field: string): UnlearnMethod {
  if (value == null) return DEFAULT_METHOD;
  if (!METHODS.includes(value as UnlearnMethod)) throw new InputError(field, `must be one of ${METHODS.join(', ')}`);
  return value as UnlearnMethod;
}
