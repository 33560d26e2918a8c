"""Lethe GPU worker: LoRA unlearning for llava-hf checkpoints, ONNX export for audits, tiny LLaVA builder."""
