// The model server a lineage's adapters are made for, and the LoRA targets each can load. A lineage whose
// adapters its server could not load would pass its audits and then never answer: refused at creation.
import { InputError } from '../../common/errors';
import type { LoraConfig } from '../../common/gpu-contracts';
import { DEFAULT_SERVING_KIND, SERVING_KINDS, ServingKind } from './lineage';

/**
 * ONNX_RUNTIME (the service's own chat endpoint) feeds LoRA tensors to the vision and decoder graphs, and peft
 * (TRANSFORMERS) wraps any linear layer: both load the projector's. vLLM applies LoRA to the language model only.
 */
export const LOADABLE_TARGETS: Record<ServingKind, readonly string[]> = {
  ONNX_RUNTIME: ['llm', 'projector+llm'],
  TRANSFORMERS: ['llm', 'projector+llm'],
  VLLM: ['llm'],
};

/** A lineage's serving kind (absent: the default), refused when it cannot load the lineage's LoRA targets. */
export function parseServingKind(value: unknown, lora: LoraConfig, fields: { servingKind: string; targets: string }): ServingKind {
  const kind = value ?? DEFAULT_SERVING_KIND;
  if (!SERVING_KINDS.includes(kind as ServingKind)) {
    throw new InputError(fields.servingKind, `must be one of ${SERVING_KINDS.join(', ')}, got ${JSON.stringify(value)}`);
  }
  const loadable = LOADABLE_TARGETS[kind as ServingKind];
  const targets = Array.isArray(lora.targets) ? lora.targets.join(', ') : lora.targets;
  if (!loadable.includes(targets)) {
    throw new InputError(fields.targets,
      `${targets} cannot be served by ${kind}, which loads LoRA on ${loadable.join(' or ')} only; choose targets ${loadable.join(' or ')} or another servingKind`);
  }
  return kind as ServingKind;
}
