"""llava-1.5-7b/13b-hf, randomly initialised and written offline: configuration, tokenizer and synthetic batches.

Shared by `npm run bench:scale` (scale.py), the GPU check (gpu_check.py) and `bench:unlearn --config`. Nothing is
downloaded: the configuration is llava-hf's, spelt out; the tokenizer is the tiny LLaVA's byte-level BPE
(model_io.train_bpe_tokenizer) with its ids moved to llava-hf's (<unk> 0, <s> 1, </s> 2, <image> 32000,
<pad> 32001; 32002 tokens, the embedding padded to 32064 rows as in llava-hf), so token ids, the image token and
the padding id are those of the real checkpoints. Only the weights (random) and the merges differ.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Iterable, Optional

import torch

from lethe_worker import losses
from lethe_worker.model_io import SPECIAL_TOKENS, save_processor_files, train_bpe_tokenizer
from lethe_worker.prompts import IMAGE_TOKEN, OPTION_LETTERS, mc_prompt, qa_prompt

FULL_SIZE_CONFIGS = ("llava-1.5-7b", "llava-1.5-13b")
IMAGE_TOKEN_ID = 32000
PAD_TOKEN_ID = 32001
TOKENIZER_SIZE = 32002  # llava-1.5-hf: Llama's 32000 + <image> + <pad>
VOCAB_SIZE = 32064  # the embedding rows of llava-1.5-hf (padded)


def llava_config(name: str = "llava-1.5-7b", num_layers: Optional[int] = None, *, hidden_size: Optional[int] = None,
                 vision_hidden_size: Optional[int] = None, vision_layers: Optional[int] = None):
    """llava-1.5-7b/13b-hf's configuration (CLIP ViT-L/14 at 336 px, 576 image tokens + Vicuna).

    `num_layers` (decoder layers) and the reduced sizes (hidden_size, vision_*: CPU smoke runs) are the only changes."""
    from transformers import CLIPVisionConfig, LlamaConfig, LlavaConfig

    if name not in FULL_SIZE_CONFIGS:
        raise ValueError(f"unknown configuration {name!r}; expected one of {FULL_SIZE_CONFIGS}")
    big = name == "llava-1.5-13b"
    hidden = hidden_size or (5120 if big else 4096)
    heads = 40 if big else 32
    if hidden_size:
        heads = max(1, hidden // 16)
    text = LlamaConfig(
        vocab_size=VOCAB_SIZE, hidden_size=hidden, intermediate_size=(13824 if big else 11008) if not hidden_size else hidden * 3,
        num_hidden_layers=num_layers or (40 if big else 32), num_attention_heads=heads, num_key_value_heads=heads,
        max_position_embeddings=4096, rms_norm_eps=1e-5, tie_word_embeddings=False,
        pad_token_id=PAD_TOKEN_ID, bos_token_id=1, eos_token_id=2,
    )
    v_hidden = vision_hidden_size or 1024
    vision = CLIPVisionConfig(hidden_size=v_hidden, intermediate_size=v_hidden * 4, num_hidden_layers=vision_layers or 24,
                              num_attention_heads=16 if not vision_hidden_size else max(1, v_hidden // 16),
                              image_size=336, patch_size=14, projection_dim=768, hidden_act="quick_gelu")
    cfg = LlavaConfig(vision_config=vision, text_config=text, image_token_index=IMAGE_TOKEN_ID, projector_hidden_act="gelu",
                      vision_feature_select_strategy="default", vision_feature_layer=-2, image_seq_length=576,
                      tie_word_embeddings=False)
    cfg.pad_token_id = PAD_TOKEN_ID
    return cfg


def corpus() -> list[str]:
    """Prompts and answers of the shapes the service sends (training QA and multiple choice)."""
    opts = {"A": "baker", "B": "pilot", "C": "lawyer", "D": "nurse"}
    people = ["Ilsa Marrow", "Tobin Vale", "Mara Quill", "Oren Hask"]
    facts = [("occupation", "baker"), ("birthplace", "Harlow"), ("favourite colour", "green"), ("pet", "a grey cat")]
    texts = []
    for person in people:
        for fact, value in facts:
            for image in (True, False):
                subject = "this person" if image else person
                texts.append(f"{qa_prompt(f'What is the {fact} of {subject}?', image)} {value}</s>")
                texts.append(f"{mc_prompt(f'What is the {fact} of {subject}?', opts, image)} A</s>")
    return texts


def llava_tokenizer(texts: Optional[Iterable[str]] = None):
    """A `tokenizers.Tokenizer` with llava-1.5-hf's special ids: the tiny LLaVA's BPE, ids remapped."""
    from tokenizers import Tokenizer

    tok = train_bpe_tokenizer(list(texts) if texts is not None else corpus(), vocab_size=1024)
    doc = json.loads(tok.to_str())
    vocab: dict[str, int] = doc["model"]["vocab"]
    moved = {"<image>": IMAGE_TOKEN_ID, "<pad>": PAD_TOKEN_ID}
    assert [vocab[s] for s in SPECIAL_TOKENS] == list(range(len(SPECIAL_TOKENS))), "train_bpe_tokenizer's special ids changed"
    freed = sorted(vocab[s] for s in moved)
    for token, new_id in moved.items():
        vocab[token] = new_id
    used = set(vocab.values())
    # Fill the freed ids and everything up to 32000 with tokens no text encodes to (llava-hf's vocabulary is full).
    for i in list(freed) + list(range(len(SPECIAL_TOKENS), IMAGE_TOKEN_ID)):
        if i not in used:
            vocab[f"<unused{i}>"] = i
            used.add(i)
    for added in doc["added_tokens"]:
        added["id"] = vocab[added["content"]]
    out = Tokenizer.from_str(json.dumps(doc))
    assert out.get_vocab_size() == TOKENIZER_SIZE, out.get_vocab_size()
    assert out.token_to_id(IMAGE_TOKEN) == IMAGE_TOKEN_ID and out.token_to_id("<pad>") == PAD_TOKEN_ID
    return out


def build_model(config, seed: int = 0, device: str | torch.device = "cpu", dtype: torch.dtype = torch.float32):
    """A randomly initialised LlavaForConditionalGeneration, created directly on `device` in `dtype`."""
    from transformers import LlavaForConditionalGeneration

    torch.manual_seed(seed)
    previous = torch.get_default_dtype()
    torch.set_default_dtype(dtype)
    try:
        with torch.device(device):
            model = LlavaForConditionalGeneration(config)
    finally:
        torch.set_default_dtype(previous)
    return model.to(dtype).eval()  # a no-op where every tensor was created in `dtype`


def save_llava_dir(model, tokenizer, out_dir: str | Path, dtype: torch.dtype = torch.float16) -> Path:
    """llava-hf layout (weights in `dtype`, fp16 as llava-hf ships them; safetensors shards) + tokenizer/processor."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    model.to(dtype).save_pretrained(str(out), max_shard_size="2GB")
    save_processor_files(out, None, model.config, tokenizer_obj=tokenizer)
    return out


def encode_qa(tokenizer, question: str, answer: str, with_image: bool, image_tokens: int, eos_token_id: int):
    """The worker's data.encode without a processor or an image file: <image> expanded to `image_tokens` positions,
    labels on the answer and the end token only. `tokenizer` is a transformers tokenizer."""
    def ids(text: str) -> torch.Tensor:
        return torch.tensor(tokenizer(text.replace(IMAGE_TOKEN, IMAGE_TOKEN * image_tokens), add_special_tokens=False)["input_ids"])

    prompt = qa_prompt(question, with_image=with_image)
    prompt_ids = ids(prompt)
    input_ids = torch.cat([ids(f"{prompt} {answer}"), torch.tensor([eos_token_id])])
    labels = input_ids.clone()
    labels[: len(prompt_ids)] = losses.IGNORE_INDEX
    return input_ids, labels


__all__ = ["FULL_SIZE_CONFIGS", "OPTION_LETTERS", "build_model", "corpus", "encode_qa", "llava_config", "llava_tokenizer", "save_llava_dir"]
