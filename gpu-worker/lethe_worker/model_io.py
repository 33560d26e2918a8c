"""Loading llava-hf checkpoints (the tiny LLaVA or llava-1.5-7b/13b-hf) and building tiny random ones.

Everything here is offline: a model is always a local directory in llava-hf layout (config.json,
*.safetensors, tokenizer.json, tokenizer_config.json, preprocessor_config.json, processor_config.json,
chat template). Device and dtype are settings: CUDA bf16 on a GPU host, CPU fp32 here.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import torch  # noqa: E402

from .prompts import IMAGE_TOKEN, OPTION_LETTERS, option_continuation  # noqa: E402

DTYPES = {
    "float32": torch.float32, "fp32": torch.float32,
    "bfloat16": torch.bfloat16, "bf16": torch.bfloat16,
    "float16": torch.float16, "fp16": torch.float16,
}

# The chat template of llava-hf/llava-1.5-*-hf (USER: <image>\n... ASSISTANT:), as a jinja string.
CHAT_TEMPLATE = (
    "{% for message in messages %}"
    "{% if message['role'] != 'system' %}{{ message['role'].upper() + ': ' }}{% endif %}"
    "{% if message['content'] is string %}{{ message['content'] }}"
    "{% else %}"
    "{% for item in message['content'] %}{% if item['type'] == 'image' %}{{ '<image>\n' }}{% endif %}{% endfor %}"
    "{% for item in message['content'] %}{% if item['type'] == 'text' %}{{ item['text'] }}{% endif %}{% endfor %}"
    "{% endif %}"
    "{% if message['role'] == 'assistant' %}{{ eos_token }}{% endif %}"
    "{% if not loop.last %}{{ ' ' }}{% endif %}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ ' ASSISTANT:' }}{% endif %}"
)


class ModelLoadError(ValueError):
    """The model directory is missing or is not a llava-hf checkpoint."""


def resolve_device(device: str | torch.device | None) -> torch.device:
    if device is None or device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


def resolve_dtype(dtype: str | torch.dtype | None, device: torch.device | None = None) -> torch.dtype:
    if isinstance(dtype, torch.dtype):
        return dtype
    if dtype is None or dtype == "auto":
        return torch.bfloat16 if device is not None and device.type == "cuda" else torch.float32
    try:
        return DTYPES[str(dtype).lower()]
    except KeyError:
        raise ValueError(f"unknown dtype {dtype!r}; expected one of {sorted(DTYPES)}") from None


def check_model_dir(path: str | os.PathLike) -> Path:
    p = Path(path)
    if not p.is_dir():
        raise ModelLoadError(f"model directory does not exist: {p}")
    if not (p / "config.json").is_file():
        raise ModelLoadError(f"not a llava-hf model directory (no config.json): {p}")
    if not any(p.glob("*.safetensors")) and not any(p.glob("*.bin")):
        raise ModelLoadError(f"model directory has no weights (*.safetensors): {p}")
    return p


def load_processor(path: str | os.PathLike):
    """AutoProcessor of a llava-hf directory, tokenizer LEFT padded (scoring reads the last position)."""
    from transformers import AutoProcessor

    p = Path(path)
    if not p.is_dir():
        raise ModelLoadError(f"model directory does not exist: {p}")
    processor = AutoProcessor.from_pretrained(str(p), local_files_only=True)
    processor.tokenizer.padding_side = "left"
    if processor.tokenizer.pad_token is None:  # llava-1.5-hf has <pad>; be safe for others
        processor.tokenizer.pad_token = processor.tokenizer.unk_token or processor.tokenizer.eos_token
    return processor


def load_llava(path: str | os.PathLike, device: str | torch.device | None = "cpu", dtype: str | torch.dtype | None = "float32"):
    """(model, processor) from a local llava-hf directory. Model in eval mode on `device` with `dtype`."""
    from transformers import LlavaForConditionalGeneration

    p = check_model_dir(path)
    dev = resolve_device(device)
    dt = resolve_dtype(dtype, dev)
    model = LlavaForConditionalGeneration.from_pretrained(str(p), dtype=dt, local_files_only=True)
    model.to(dev)
    model.eval()
    processor = load_processor(p)
    return model, processor


def option_token_ids(tokenizer) -> dict[str, int]:
    """Token id of " A" .. " D"; each must be exactly one token."""
    out = {}
    for letter in OPTION_LETTERS:
        ids = tokenizer.encode(option_continuation(letter), add_special_tokens=False)
        if len(ids) != 1:
            # SentencePiece tokenizers (llava-1.5) encode " A" as ["▁", "A"] or ["▁A"]; take the last piece.
            ids = ids[-1:]
        out[letter] = int(ids[0])
    return out


def num_image_tokens(model_or_config) -> int:
    """Positions one <image> expands to in the decoder (patches, minus CLS under the "default" strategy)."""
    cfg = getattr(model_or_config, "config", model_or_config)
    v = cfg.vision_config
    n = (v.image_size // v.patch_size) ** 2
    return n + 1 if cfg.vision_feature_select_strategy == "full" else n  # "default" drops the CLS position


# ---------------------------------------------------------------------------------------------------------------
# Tiny random models (tests, and the starting point of the tiny LLaVA build)


@dataclass(frozen=True)
class TinySpec:
    vocab_size: int = 512
    hidden_size: int = 128
    intermediate_size: int = 384
    num_hidden_layers: int = 2
    num_attention_heads: int = 4
    num_key_value_heads: int = 4
    max_position_embeddings: int = 256
    vision_hidden_size: int = 64
    vision_intermediate_size: int = 128
    vision_layers: int = 2
    vision_heads: int = 4
    image_size: int = 32
    patch_size: int = 8
    image_token_index: int = 4
    pad_token_id: int = 3
    bos_token_id: int = 1
    eos_token_id: int = 2


def build_tiny_config(spec: TinySpec | None = None, **overrides: Any):
    """LlavaConfig for a tiny CLIP vision tower + projector + Llama decoder."""
    from transformers import CLIPVisionConfig, LlamaConfig, LlavaConfig

    s = spec or TinySpec()
    if overrides:
        s = TinySpec(**{**s.__dict__, **overrides})
    vision = CLIPVisionConfig(
        hidden_size=s.vision_hidden_size, intermediate_size=s.vision_intermediate_size,
        num_hidden_layers=s.vision_layers, num_attention_heads=s.vision_heads,
        image_size=s.image_size, patch_size=s.patch_size, num_channels=3,
        projection_dim=s.vision_hidden_size, hidden_act="quick_gelu",
    )
    text = LlamaConfig(
        vocab_size=s.vocab_size, hidden_size=s.hidden_size, intermediate_size=s.intermediate_size,
        num_hidden_layers=s.num_hidden_layers, num_attention_heads=s.num_attention_heads,
        num_key_value_heads=s.num_key_value_heads, max_position_embeddings=s.max_position_embeddings,
        rms_norm_eps=1e-5, tie_word_embeddings=False,
        pad_token_id=s.pad_token_id, bos_token_id=s.bos_token_id, eos_token_id=s.eos_token_id,
    )
    n_patches = (s.image_size // s.patch_size) ** 2
    cfg = LlavaConfig(
        vision_config=vision, text_config=text, image_token_index=s.image_token_index,
        image_seq_length=n_patches, projector_hidden_act="gelu",
        vision_feature_select_strategy="default", vision_feature_layer=-1,
        tie_word_embeddings=False,
    )
    cfg.pad_token_id = s.pad_token_id
    return cfg


def build_tiny_model(spec: TinySpec | None = None, seed: int = 0, **overrides: Any):
    """A randomly initialised tiny LlavaForConditionalGeneration (deterministic for a seed)."""
    from transformers import LlavaForConditionalGeneration

    cfg = build_tiny_config(spec, **overrides)
    torch.manual_seed(seed)
    model = LlavaForConditionalGeneration(cfg)
    model.eval()
    return model


def image_processor_config(image_size: int = 32) -> dict:
    """preprocessor_config.json of the tiny model (a CLIPImageProcessor at `image_size`)."""
    return {
        "image_processor_type": "CLIPImageProcessor",
        "processor_class": "LlavaProcessor",
        "do_resize": True,
        "size": {"shortest_edge": image_size},
        "resample": 3,
        "do_center_crop": True,
        "crop_size": {"height": image_size, "width": image_size},
        "do_rescale": True,
        "rescale_factor": 1 / 255,
        "do_normalize": True,
        "image_mean": [0.48145466, 0.4578275, 0.40821073],
        "image_std": [0.26862954, 0.26130258, 0.27577711],
        "do_convert_rgb": True,
    }


def save_processor_files(out_dir: str | os.PathLike, tokenizer_json: str | os.PathLike | None, cfg, *,
                         tokenizer_obj=None) -> None:
    """Write tokenizer/processor files of llava-hf layout next to a saved model.

    `tokenizer_obj` is a `tokenizers.Tokenizer` (or pass the path of a tokenizer.json).
    Special tokens: <unk>, <s>, </s>, <pad>, <image> (ids from the tokenizer).
    """
    import json

    from tokenizers import Tokenizer
    from transformers import CLIPImageProcessor, LlavaProcessor, PreTrainedTokenizerFast

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    tok = tokenizer_obj or Tokenizer.from_file(str(tokenizer_json))
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok, bos_token="<s>", eos_token="</s>", unk_token="<unk>", pad_token="<pad>",
        padding_side="left", model_max_length=cfg.text_config.max_position_embeddings,
        clean_up_tokenization_spaces=False,
    )
    fast.add_bos_token = False  # prompts carry no BOS: the same ids as the TypeScript side builds
    image_proc = CLIPImageProcessor(**{k: v for k, v in image_processor_config(cfg.vision_config.image_size).items()
                                       if k not in ("image_processor_type", "processor_class")})
    proc = LlavaProcessor(
        image_processor=image_proc, tokenizer=fast, patch_size=cfg.vision_config.patch_size,
        vision_feature_select_strategy=cfg.vision_feature_select_strategy, chat_template=CHAT_TEMPLATE,
        image_token=IMAGE_TOKEN, num_additional_image_tokens=1,
    )
    proc.save_pretrained(str(out))
    # A plain CLIPImageProcessor preprocessor_config.json (what llava-hf ships), whichever backend saved it.
    (out / "preprocessor_config.json").write_text(json.dumps(image_processor_config(cfg.vision_config.image_size), indent=2) + "\n")


SPECIAL_TOKENS = ("<unk>", "<s>", "</s>", "<pad>", IMAGE_TOKEN)  # ids 0..4, in this order


def train_bpe_tokenizer(texts: Iterable[str], vocab_size: int = 2048):
    """Byte-level BPE (GPT-2 style, loads in transformers.js) trained on `texts`.

    Special tokens get ids 0..4: <unk> <s> </s> <pad> <image>. " A".." D" are forced to be single tokens.
    No post-processor: encoding adds no BOS/EOS, so both runtimes build the same ids from the same prompt.
    """
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size, special_tokens=list(SPECIAL_TOKENS), show_progress=False, min_frequency=1,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
    )
    letters = [option_continuation(x) for x in OPTION_LETTERS]
    tok.train_from_iterator(list(texts) + letters * 50, trainer)
    for x in letters:
        if len(tok.encode(x, add_special_tokens=False).ids) != 1:
            raise RuntimeError(f"tokenizer does not encode {x!r} as one token")
    for i, s in enumerate(SPECIAL_TOKENS):
        assert tok.token_to_id(s) == i, (s, tok.token_to_id(s))
    return tok


def save_tiny_random(out_dir: str | os.PathLike, texts: Iterable[str] | None = None, seed: int = 0,
                     vocab_size: int = 512, **spec_overrides: Any) -> Path:
    """A random tiny llava-hf directory (tokenizer trained on `texts`); for tests of loading/scoring code."""
    from .prompts import mc_prompt

    if texts is None:
        opts = {"A": "baker", "B": "pilot", "C": "lawyer", "D": "nurse"}
        texts = [mc_prompt("What is this person's occupation?", opts, True),
                 mc_prompt("Where was Ilsa Marrow born?", opts, False), "What colour is the shape? red green blue"]
    tok = train_bpe_tokenizer(texts, vocab_size=vocab_size)
    model = build_tiny_model(seed=seed, vocab_size=tok.get_vocab_size(), **spec_overrides)
    out = Path(out_dir)
    model.save_pretrained(str(out))
    save_processor_files(out, None, model.config, tokenizer_obj=tok)
    return out
