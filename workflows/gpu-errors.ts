/**
 * Error types (ApplicationFailure.type) the Python GPU worker raises for bad input
 * (gpu-worker/lethe_worker/errors.py): the same input fails the same way, so never retried.
 * Defined here because workflow code imports only relative workflow files; the service
 * re-exports it from src/common/gpu-contracts.ts.
 */
export const GPU_NON_RETRYABLE_ERROR_TYPES = [
  'MODEL_NOT_FOUND',
  'DATASET_NOT_FOUND',
  'UNKNOWN_METHOD',
  'INVALID_INPUT',
  'EMPTY_FORGET_SET',
  'BAD_FORGET_SET',
  'BAD_PARENT_ADAPTER',
  'LORA_TARGET_NO_MATCH',
  'NAN_LOSS',
  'UNREADABLE_IMAGE',
] as const;
