// The model runtime of the audits: scores multiple-choice eval items on onnxruntime-node with a
// version's LoRA tensors, and generates answers with them. This is the stable surface the audit activity,
// the chat endpoint (src/serving) and the benchmarks use.
export type { AdapterRef, EvalItem, McScorer, ScoredItem } from '../domain/eval-item';
export { loadLoraFeeds, parseSafetensorsHeader, sha256Hex } from './adapter';
export { loadEvalItems } from './eval-items';
export type { RuntimeEvalItem } from './eval-items';
export { loadInlineProfiles, loadProbeWorld } from './probe-sources';
export { checkGraphAgainstManifest, MANIFEST_FILE, readManifest } from './manifest';
export type { LoraInputSpec, OnnxManifest } from './manifest';
export { findExport } from './exports';
export { logSoftmax, TokenChooser } from './generation';
export type { DecodingOptions, GeneratedToken, TokenLogprob } from './generation';
export { OnnxLlavaScorer, openScorer } from './onnx-llava-scorer';
export type { ExecutionProvider, Generation, GenerationInput, OpenScorerOptions, ScorableItem, ScoreOptions, TokenText } from './onnx-llava-scorer';
export { DEFAULT_PROMPT_FORMAT, IMAGE_TOKEN, mcPrompt, openPrompt, PROMPT_FORMATS } from './prompt';
export type { PromptFormat } from './prompt';
export { AuditRuntimeError } from './runtime-error';
export type { RuntimeErrorCode } from './runtime-error';
