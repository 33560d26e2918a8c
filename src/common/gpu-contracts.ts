// TypeScript types of the activities served by the Python GPU worker (queue `gpu`), written by
// hand from contracts/*.schema.json; test/orchestration/contracts.test.ts validates values of
// these types against the schemas with ajv, so a schema change that breaks them fails a test.

export { GPU_TASK_QUEUE } from '../../workflows/task-queues';

export { GPU_NON_RETRYABLE_ERROR_TYPES } from '../../workflows/gpu-errors';

export type UnlearnMethod = 'ga' | 'ga_klr' | 'npo' | 'graddiff' | 'neverseen_kd';
export const UNLEARN_METHODS: readonly UnlearnMethod[] = ['ga', 'ga_klr', 'npo', 'graddiff', 'neverseen_kd'];

export interface LoraConfig {
  rank: number;
  alpha: number;
  dropout: number;
  /** A preset (PULSE Table 3) or module-name suffixes. */
  targets: 'llm' | 'projector+llm' | string[];
}

export interface BaseModelRef {
  path: string;
  id: string;
}

export interface FileRef {
  path: string;
  sha256: string;
}

export interface HyperParameters {
  learningRate: number;
  epochs: number;
  batchSize: number;
  maxSteps?: number;
  npoBeta?: number;
  klWeight?: number;
  retainWeight?: number;
  /** Probability below which a forget token is no longer ascended (ga, ga_klr, graddiff); 0 = plain gradient ascent. */
  ascentFloor?: number;
  /** What the ascent lowers on each forget token (ga, ga_klr, graddiff): log p (plain gradient ascent) or the log-odds, whose push does not fade on the tokens the model is surest of. */
  ascentObjective?: AscentObjective;
  /** ga_klr, neverseen_kd: the model the retain KL anchors to, the one this operation starts from or the base (version 0). */
  klReference?: KlReference;
  /** Weight of a KL term holding the people forgotten earlier (excludeFromRetain) where the version that forgot them had them (forgottenBy), else where the parent has them; 0 = off. */
  holdForgottenWeight?: number;
  /** Weight of a KL term to version 0 on the dataset's general training questions (lethe/train/general.jsonl); 0 = off. */
  generalKlWeight?: number;
}

export const KL_REFERENCES = ['start', 'base'] as const;
export type KlReference = (typeof KL_REFERENCES)[number];

export const ASCENT_OBJECTIVES = ['logProb', 'logOdds'] as const;
export type AscentObjective = (typeof ASCENT_OBJECTIVES)[number];

/** An earlier version's adapter and the dataset subjects it forgot: the hold keeps them where that version had them. */
export interface ForgottenBy {
  adapter: FileRef;
  datasetSubjectIds: string[];
}

export interface UnlearnInput {
  baseModel: BaseModelRef;
  dataset: { path: string };
  /** Adapter to continue from (sequential); null starts from the base (version 0 or cumulative). */
  parentAdapter: FileRef | null;
  forgetSet: FileRef;
  /** Dataset subject ids forgotten earlier in this lineage: never used as retain data; held forgotten by hyperParameters.holdForgottenWeight. */
  excludeFromRetain: string[];
  /** For people of excludeFromRetain, the adapter of the version that forgot them (sequential lineages). */
  forgottenBy?: ForgottenBy[];
  method: UnlearnMethod;
  hyperParameters: HyperParameters;
  lora: LoraConfig;
  seed: number;
  outputRoot: string;
}

export interface UnlearnOutput {
  adapter: FileRef;
  manifestPath: string;
  lossCurve: number[];
  steps: number;
  wallSeconds: number;
  tokensPerSecond: number;
  /** true when a complete artifact for the same input already existed (a retry). */
  reused: boolean;
}

export interface ExportOnnxInput {
  baseModel: BaseModelRef;
  lora: LoraConfig;
  outputRoot: string;
}

export interface ExportOnnxOutput {
  dir: string;
  manifestPath: string;
  reused: boolean;
}

/** The forget-set file the service writes (decrypted, short-lived) for `unlearn`. */
export interface ForgetSetFile {
  subjects: Array<{
    requestId: string;
    name: string;
    datasetSubjectId: string | null;
    images: string[];
    facts: Array<{ question: string; answer: string }>;
  }>;
}
