import { AppError, ErrorCode, InputError } from '../../common/errors';
import UNLEARNING_DEFAULTS_DOCUMENT from '../../../contracts/unlearning-defaults.json';
import { ASCENT_OBJECTIVES, KL_REFERENCES, type AscentObjective, type HyperParameters, type LoraConfig, type UnlearnMethod } from '../../common/gpu-contracts';

export class LineageError extends AppError {
  constructor(code: ErrorCode, message: string, field?: string) {
    super(code, message, field);
  }
}

export const STRATEGIES = ['SEQUENTIAL', 'CUMULATIVE'] as const;
export type Strategy = (typeof STRATEGIES)[number];
/** The model server a lineage's adapters are made for (serving-kind.ts: which LoRA targets each loads). */
export const SERVING_KINDS = ['ONNX_RUNTIME', 'VLLM', 'TRANSFORMERS'] as const;
export type ServingKind = (typeof SERVING_KINDS)[number];
export const METHODS: readonly UnlearnMethod[] = ['ga', 'ga_klr', 'npo', 'graddiff', 'neverseen_kd'];
export const VERSION_STATUSES = ['CANDIDATE', 'PROMOTED', 'REJECTED', 'ROLLED_BACK', 'SUPERSEDED'] as const;
export type VersionStatus = (typeof VERSION_STATUSES)[number];
/** How the model knows a dataset person: learned in fine-tuning, in pre-training, or never trained on (the reference
 * a forgotten person is compared with; contracts/dataset.schema.json). */
export const KNOWLEDGE = ['FINETUNED', 'PRETRAINED', 'NEVER_SEEN'] as const;
export type Knowledge = (typeof KNOWLEDGE)[number];

/** How a REQUESTER may look up a dataset's people: a search, never the whole list. */
export const REQUESTER_SUBJECT_SEARCH = { minSearchLength: 2, maxResults: 20 } as const;
/** Longer than any name or id; bounds what one search makes Postgres match. */
export const MAX_SUBJECT_SEARCH_LENGTH = 200;

export interface ModelLineage {
  name: string;
  baseModel: { path: string; id: string };
  datasetPath: string;
  lora: LoraConfig;
  servingKind: ServingKind;
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
  /**
   * Days a COMPLETED inline profile stays encrypted on a SEQUENTIAL lineage, so that a rollback past it can
   * unlearn the person again; then it is purged and such a rollback is refused. 0: purged at completion.
   */
  profileRetentionDays: number;
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

type NumericHyperParameter = 'learningRate' | 'epochs' | 'batchSize' | 'maxSteps' | 'npoBeta' | 'klWeight' | 'retainWeight' | 'holdForgottenWeight' | 'generalKlWeight';

/** contracts/unlearning-defaults.json: the one source of an unlearning profile's defaults and bounds, also read by the GPU worker. */
export interface UnlearningDefaults {
  method: UnlearnMethod;
  methods: Record<UnlearnMethod, HyperParameters>;
  /** The worker's value for an optional hyper-parameter that neither the request nor its method sets. */
  unsetHyperParameters: Required<Omit<HyperParameters, 'learningRate' | 'epochs' | 'batchSize' | 'maxSteps'>>;
  generalKlWeightWithGeneralQuestions: number;
  lora: LoraConfig;
  servingKind: ServingKind;
  passes: { reforgetPasses: number; reforgetAboveAccuracy: number; goalPasses: number; goalPassAscentObjective: AscentObjective };
  maxima: { hyperParameters: Record<NumericHyperParameter, number>; lora: { rank: number; alpha: number; dropout: number }; reforgetPasses: number };
}

export const UNLEARNING_DEFAULTS = UNLEARNING_DEFAULTS_DOCUMENT as UnlearningDefaults;
export const DEFAULT_METHOD: UnlearnMethod = UNLEARNING_DEFAULTS.method;
export const DEFAULT_LORA: LoraConfig = UNLEARNING_DEFAULTS.lora;
export const DEFAULT_SERVING_KIND: ServingKind = UNLEARNING_DEFAULTS.servingKind;
export const DEFAULT_REFORGET_PASSES = UNLEARNING_DEFAULTS.passes.reforgetPasses;
export const DEFAULT_REFORGET_ABOVE_ACCURACY = UNLEARNING_DEFAULTS.passes.reforgetAboveAccuracy;
export const MAX_REFORGET_PASSES = UNLEARNING_DEFAULTS.maxima.reforgetPasses;
const MAXIMA = UNLEARNING_DEFAULTS.maxima;

/** The defaults of a new lineage of `method`; a dataset with general training questions also turns on the general KL. */
export function defaultHyperParameters(method: UnlearnMethod, hasGeneralQuestions: boolean): HyperParameters {
  const defaults = { ...UNLEARNING_DEFAULTS.methods[method] };
  return hasGeneralQuestions ? { ...defaults, generalKlWeight: UNLEARNING_DEFAULTS.generalKlWeightWithGeneralQuestions } : defaults;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

interface Range {
  min: number;
  /** The minimum itself is not allowed. */
  aboveMin?: boolean;
  max: number;
  /** The maximum itself is not allowed. */
  belowMax?: boolean;
  integer?: boolean;
}

function describe(range: Range): string {
  const low = range.aboveMin ? `above ${range.min}` : `from ${range.min}`;
  const high = range.belowMax ? `up to (not including) ${range.max}` : `${range.aboveMin ? 'and at most' : 'to'} ${range.max}`;
  return `must be ${range.integer ? 'an integer' : 'a number'} ${low} ${high}`;
}

function inRange(value: unknown, field: string, range: Range): number {
  const ok =
    typeof value === 'number' &&
    Number.isFinite(value) &&
    (!range.integer || Number.isInteger(value)) &&
    (range.aboveMin ? value > range.min : value >= range.min) &&
    (range.belowMax ? value < range.max : value <= range.max);
  if (!ok) throw new InputError(field, `${describe(range)}, got ${JSON.stringify(value)}`);
  return value as number;
}

/** A lineage's reforgetAboveAccuracy: absent takes the default. */
export function parseReforgetAboveAccuracy(value: number | null | undefined, field: string): number {
  return inRange(value ?? DEFAULT_REFORGET_ABOVE_ACCURACY, field, { min: 0, max: 1, belowMax: true });
}

/** Long enough to notice and roll back a bad version; short, because it is personal data kept only for that. */
export const DEFAULT_PROFILE_RETENTION_DAYS = 30;
export const MAX_PROFILE_RETENTION_DAYS = 365;

/** A lineage's profileRetentionDays: absent takes the default. */
export function parseProfileRetentionDays(value: number | null | undefined, field: string): number {
  return inRange(value ?? DEFAULT_PROFILE_RETENTION_DAYS, field, { min: 0, max: MAX_PROFILE_RETENTION_DAYS, integer: true });
}

/** A lineage's reforgetPasses: absent takes the default. */
export function parseReforgetPasses(value: number | null | undefined, field: string): number {
  return inRange(value ?? DEFAULT_REFORGET_PASSES, field, { min: 0, max: MAX_REFORGET_PASSES, integer: true });
}

function oneOf<T extends string>(value: unknown, field: string, allowed: readonly T[]): T {
  if (!allowed.includes(value as T)) throw new InputError(field, `must be one of ${allowed.join(', ')}, got ${JSON.stringify(value)}`);
  return value as T;
}

/** The given fields of an input object, null ones left out; a key outside `allowed` is named in the error. */
function givenFields(value: unknown, allowed: readonly string[], field: string): Record<string, unknown> {
  if (value == null) return {};
  if (!isObject(value)) throw new InputError(field, 'must be an object');
  for (const key of Object.keys(value)) if (!allowed.includes(key)) throw new InputError(`${field}.${key}`, `unknown field (allowed: ${allowed.join(', ')})`);
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v != null));
}

/** Mirrors contracts/lora.schema.json for a preset's targets, with the upper bounds of the defaults document. */
export function parseLora(value: unknown, field: string): LoraConfig {
  const merged = { ...DEFAULT_LORA, ...givenFields(value, ['rank', 'alpha', 'dropout', 'targets'], field) };
  return {
    rank: inRange(merged.rank, `${field}.rank`, { min: 1, max: MAXIMA.lora.rank, integer: true }),
    alpha: inRange(merged.alpha, `${field}.alpha`, { min: 0, aboveMin: true, max: MAXIMA.lora.alpha }),
    dropout: inRange(merged.dropout, `${field}.dropout`, { min: 0, max: MAXIMA.lora.dropout }),
    targets: oneOf(merged.targets, `${field}.targets`, ['llm', 'projector+llm'] as const),
  };
}

/** The hyper-parameters the public API supports, with their ranges (contracts/unlearn.input.schema.json and the maxima of the defaults document). */
const SUPPORTED_RANGES: Record<Exclude<NumericHyperParameter, 'maxSteps'> | 'ascentFloor', Range> = {
  learningRate: { min: 0, aboveMin: true, max: MAXIMA.hyperParameters.learningRate },
  epochs: { min: 1, max: MAXIMA.hyperParameters.epochs, integer: true },
  batchSize: { min: 1, max: MAXIMA.hyperParameters.batchSize, integer: true },
  npoBeta: { min: 0, aboveMin: true, max: MAXIMA.hyperParameters.npoBeta },
  klWeight: { min: 0, max: MAXIMA.hyperParameters.klWeight },
  retainWeight: { min: 0, max: MAXIMA.hyperParameters.retainWeight },
  ascentFloor: { min: 0, max: 1, belowMax: true },
  holdForgottenWeight: { min: 0, max: MAXIMA.hyperParameters.holdForgottenWeight },
  generalKlWeight: { min: 0, max: MAXIMA.hyperParameters.generalKlWeight },
};
/** Research knobs, accepted only through the explicitly unsupported `experimental` input. */
export const EXPERIMENTAL_KNOBS = ['maxSteps', 'ascentObjective', 'klReference'] as const;

/**
 * A lineage's hyper-parameters: the supported ones given in `hyperParameters` and the research knobs given in
 * `experimental`, merged over `defaults` (defaultHyperParameters). Errors name the input field the value came from.
 */
export function parseHyperParameters(given: unknown, experimental: unknown, defaults: HyperParameters, fields: { hyperParameters: string; experimental: string }): HyperParameters {
  const supported = givenFields(given, Object.keys(SUPPORTED_RANGES), fields.hyperParameters);
  const research = givenFields(experimental, EXPERIMENTAL_KNOBS, fields.experimental);
  const merged = { ...defaults, ...supported, ...research } as Record<string, unknown>;
  const fieldOf = (key: string) => `${key in research ? fields.experimental : fields.hyperParameters}.${key}`;
  const out: Record<string, unknown> = {};
  for (const [key, range] of Object.entries(SUPPORTED_RANGES)) {
    if (merged[key] !== undefined) out[key] = inRange(merged[key], fieldOf(key), range);
  }
  if (merged.maxSteps !== undefined) out.maxSteps = inRange(merged.maxSteps, fieldOf('maxSteps'), { min: 1, max: MAXIMA.hyperParameters.maxSteps, integer: true });
  if (merged.ascentObjective !== undefined) out.ascentObjective = oneOf(merged.ascentObjective, fieldOf('ascentObjective'), ASCENT_OBJECTIVES);
  if (merged.klReference !== undefined) out.klReference = oneOf(merged.klReference, fieldOf('klReference'), KL_REFERENCES);
  return out as unknown as HyperParameters;
}

export function parseMethod(value: unknown, field: string): UnlearnMethod {
  if (value == null) return DEFAULT_METHOD;
  if (!METHODS.includes(value as UnlearnMethod)) throw new InputError(field, `must be one of ${METHODS.join(', ')}`);
  return value as UnlearnMethod;
}
