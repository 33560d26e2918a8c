// The one typed error of the model runtime. Every failure that must stop an audit (fail closed)
// has its own code; the message names the file, field or tensor at fault.
import { AppError, ErrorCode } from '../../common/errors';

export type RuntimeErrorCode =
  | 'MANIFEST_INVALID' // manifest.json missing, unreadable or not valid against contracts/onnx-manifest.schema.json
  | 'MANIFEST_GRAPH_MISMATCH' // a graph's inputs/outputs differ from what the manifest promises
  | 'MODEL_DIR_INVALID' // tokenizer or image processor missing from the model directory
  | 'ADAPTER_NOT_FOUND' // the adapter file does not exist
  | 'ADAPTER_SHA_MISMATCH' // the adapter file's sha256 differs from the version record
  | 'ADAPTER_CORRUPT' // not a parseable safetensors file
  | 'ADAPTER_KEY_MISSING' // a LoRA tensor the graphs need is not in the adapter
  | 'ADAPTER_SHAPE_MISMATCH' // a LoRA tensor has another shape (or dtype) than the graphs need
  | 'EVAL_SET_EMPTY' // nothing to score
  | 'EVAL_ITEM_INVALID' // an eval line does not match contracts/eval-item.schema.json
  | 'IMAGE_NOT_FOUND' // a multimodal item's image cannot be read
  | 'PROFILE_UNAVAILABLE' // an inline profile to probe is not in the step's forget-set file (or the file is unreadable)
  | 'IMAGE_TOKEN_MISMATCH' // image-token count in the prompt or vision output is not what the manifest says
  | 'EXECUTION_FAILED' // onnxruntime failed to run a graph
  | 'EXPORT_NOT_FOUND' // no ONNX export of the lineage's base model and LoRA config exists yet
  | 'PROMPT_TOO_LONG'; // prompt plus the tokens to generate exceed the model's context

// Client codes only matter if a runtime error reaches GraphQL (through a report): a bad artifact
// conflicts with the version record, a bad eval set is bad input.
const CLIENT_CODE: Record<RuntimeErrorCode, ErrorCode> = {
  MANIFEST_INVALID: 'CONFLICT',
  MANIFEST_GRAPH_MISMATCH: 'CONFLICT',
  MODEL_DIR_INVALID: 'CONFLICT',
  ADAPTER_NOT_FOUND: 'NOT_FOUND',
  ADAPTER_SHA_MISMATCH: 'CONFLICT',
  ADAPTER_CORRUPT: 'CONFLICT',
  ADAPTER_KEY_MISSING: 'CONFLICT',
  ADAPTER_SHAPE_MISMATCH: 'CONFLICT',
  PROFILE_UNAVAILABLE: 'CONFLICT',
  EVAL_SET_EMPTY: 'BAD_USER_INPUT',
  EVAL_ITEM_INVALID: 'BAD_USER_INPUT',
  IMAGE_NOT_FOUND: 'NOT_FOUND',
  IMAGE_TOKEN_MISMATCH: 'CONFLICT',
  EXECUTION_FAILED: 'CONFLICT',
  EXPORT_NOT_FOUND: 'CONFLICT',
  PROMPT_TOO_LONG: 'BAD_USER_INPUT',
};

export class AuditRuntimeError extends AppError {
  constructor(
    readonly reason: RuntimeErrorCode,
    message: string,
    field?: string,
  ) {
    super(CLIENT_CODE[reason], message, field);
  }
}
