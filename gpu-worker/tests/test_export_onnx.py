"""ONNX export: contract, LoRA inputs without defaults, parity with torch/peft, reuse, bad inputs.

Runs on a small randomly initialised LlavaForConditionalGeneration built here (seconds), so the
export is tested independently of the tiny model's training.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
import torch

from lethe_worker import export_onnx as ex
from lethe_worker.config import LoraSettings
from lethe_worker.contracts import validator
from lethe_worker.errors import WorkerError
from lethe_worker.lora import resolve_lora_targets

IMAGE_TOKEN_ID = 5
PAD_TOKEN_ID = 0
VOCAB = ["<pad>", "<s>", "</s>", "<unk>", "USER:", "<image>", "ASSISTANT:", "ĠA", "ĠB", "ĠC", "ĠD"] + [
    f"w{i}" for i in range(53)
]


def _build_random_llava(out: Path) -> None:
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import CLIPVisionConfig, LlamaConfig, LlavaConfig, LlavaForConditionalGeneration, PreTrainedTokenizerFast

    torch.manual_seed(0)
    vision = CLIPVisionConfig(hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=2,
                              image_size=32, patch_size=8, projection_dim=32)
    text = LlamaConfig(hidden_size=48, intermediate_size=96, num_hidden_layers=2, num_attention_heads=4,
                       num_key_value_heads=2, vocab_size=len(VOCAB), max_position_embeddings=128,
                       pad_token_id=PAD_TOKEN_ID, bos_token_id=1, eos_token_id=2)
    config = LlavaConfig(vision_config=vision, text_config=text, image_token_id=IMAGE_TOKEN_ID,
                         vision_feature_layer=-2, vision_feature_select_strategy="default")
    model = LlavaForConditionalGeneration(config).eval()
    model.save_pretrained(out)
    tok = Tokenizer(models.WordLevel({w: i for i, w in enumerate(VOCAB)}, unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, pad_token="<pad>", bos_token="<s>", eos_token="</s>",
                                   unk_token="<unk>")
    fast.save_pretrained(out)


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("random-llava")
    _build_random_llava(out)
    return out


@pytest.fixture(scope="module")
def lora():
    return {"rank": 4, "alpha": 8, "dropout": 0.0, "targets": "projector+llm"}


@pytest.fixture(scope="module")
def exported(model_dir, lora, tmp_path_factory):
    root = tmp_path_factory.mktemp("onnx")
    beats = []
    payload = {"baseModel": {"path": str(model_dir), "id": "random-llava"}, "lora": lora, "outputRoot": str(root)}
    out = ex.export_onnx(payload, heartbeat=lambda step, total: beats.append((step, total)))
    return {"payload": payload, "out": out, "beats": beats, "manifest": json.loads(Path(out["manifestPath"]).read_text())}


def _peft_model(model_dir: Path, lora: dict, seed: int):
    """The base wrapped by peft with the same targets, with non-zero random A and B."""
    from peft import LoraConfig, get_peft_model

    base = ex.load_base_model(model_dir)
    targets = resolve_lora_targets(base, lora["targets"])
    peft_model = get_peft_model(base, LoraConfig(r=lora["rank"], lora_alpha=lora["alpha"], lora_dropout=0.0,
                                                 target_modules=targets))
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, param in peft_model.named_parameters():
            if "lora_" in name:
                param.copy_(torch.randn(param.shape, generator=gen) * 0.2)
    return peft_model.eval()


def _adapter_feeds(peft_model, manifest: dict, graph: str, zero: bool = False) -> dict[str, np.ndarray]:
    from peft import get_peft_model_state_dict

    state = get_peft_model_state_dict(peft_model)
    feeds = {}
    for entry in manifest["loraInputs"]:
        if entry["graph"] == graph:
            tensor = state[entry["adapterKey"]].numpy().astype(np.float32)
            assert list(tensor.shape) == entry["shape"], entry["name"]
            feeds[entry["name"]] = np.zeros_like(tensor) if zero else tensor
    return feeds


def _sessions(out_dir: Path, manifest: dict) -> dict[str, ort.InferenceSession]:
    return {g: ort.InferenceSession(str(out_dir / f), providers=["CPUExecutionProvider"])
            for g, f in manifest["graphs"].items()}


def _batch(manifest: dict, seed: int):
    """Left-padded batch: row 0 has an image and 3 pad positions, row 1 is text only and full length."""
    rng = np.random.default_rng(seed)
    n_img = manifest["numImageTokens"]
    words = lambda k: list(rng.integers(11, manifest["vocabSize"], size=k))
    row0 = [1, 4, IMAGE_TOKEN_ID] + [IMAGE_TOKEN_ID] * (n_img - 1) + words(4) + [6]
    row1 = [1, 4] + words(len(row0) + 1) + [6]
    width = max(len(row0), len(row1))
    ids = np.full((2, width), PAD_TOKEN_ID, dtype=np.int64)
    mask = np.zeros((2, width), dtype=np.int64)
    for r, row in enumerate((row0, row1)):
        ids[r, width - len(row):] = row
        mask[r, width - len(row):] = 1
    pixels = rng.standard_normal((1, 3, manifest["imageSize"], manifest["imageSize"])).astype(np.float32)
    return ids, mask, pixels


def _ort_logits(sessions, manifest, ids, mask, pixels, vision_feeds, decoder_feeds) -> np.ndarray:
    features = sessions["vision"].run(None, {"pixel_values": pixels, **vision_feeds})[0]
    embeds = sessions["embed"].run(None, {"input_ids": ids})[0]
    embeds[ids == manifest["imageTokenId"]] = features.reshape(-1, features.shape[-1])
    return sessions["decoder"].run(None, {"inputs_embeds": embeds, "attention_mask": mask, **decoder_feeds})[0]


def _torch_logits(model, ids, mask, pixels) -> np.ndarray:
    with torch.no_grad():
        out = model(input_ids=torch.from_numpy(ids), attention_mask=torch.from_numpy(mask),
                    position_ids=ex.positions_from_mask(torch.from_numpy(mask)),
                    pixel_values=torch.from_numpy(pixels), use_cache=False)
    return out.logits[:, -1, :].numpy()


def test_output_and_manifest_follow_the_contracts(exported):
    validator("export_onnx.output.schema.json").validate(exported["out"])
    validator("onnx-manifest.schema.json").validate(exported["manifest"])
    assert exported["out"]["reused"] is False
    assert exported["beats"] == [(1, 3), (2, 3), (3, 3)]
    m = exported["manifest"]
    assert m["optionTokenIds"] == {"A": 7, "B": 8, "C": 9, "D": 10}
    assert (m["imageTokenId"], m["padTokenId"], m["hiddenSize"], m["vocabSize"]) == (IMAGE_TOKEN_ID, PAD_TOKEN_ID, 48, len(VOCAB))
    assert m["numImageTokens"] == (32 // 8) ** 2  # default strategy drops CLS


def test_lora_tensors_are_required_fp32_inputs_in_manifest_order(exported):
    m = exported["manifest"]
    out_dir = Path(exported["out"]["dir"])
    modules = {e["module"] for e in m["loraInputs"]}
    # projector+llm on a 2-layer Llama: 2 projector linears + 2 x 7 decoder linears
    assert len(modules) == 2 + 2 * 7 and len(m["loraInputs"]) == 2 * len(modules)
    for graph in ("vision", "decoder"):
        proto = onnx.load(str(out_dir / m["graphs"][graph]))
        initializers = {i.name for i in proto.graph.initializer}
        inputs = [i for i in proto.graph.input if i.name.startswith("lora.")]
        expected = [e for e in m["loraInputs"] if e["graph"] == graph]
        assert [i.name for i in inputs] == [e["name"] for e in expected]
        for graph_input, entry in zip(inputs, expected):
            assert graph_input.name not in initializers, f"{graph_input.name} has a default"
            assert graph_input.type.tensor_type.elem_type == onnx.TensorProto.FLOAT
            assert [d.dim_value for d in graph_input.type.tensor_type.shape.dim] == entry["shape"]
        for value in list(proto.graph.input) + list(proto.graph.output):
            if value.name not in ("input_ids", "attention_mask"):
                assert value.type.tensor_type.elem_type == onnx.TensorProto.FLOAT, value.name


def test_adapter_keys_are_the_peft_safetensors_keys(exported, model_dir, lora):
    from peft import get_peft_model_state_dict

    keys = set(get_peft_model_state_dict(_peft_model(model_dir, lora, seed=1)))
    assert keys == {e["adapterKey"] for e in exported["manifest"]["loraInputs"]}


def test_onnxruntime_matches_peft_with_a_nonzero_adapter(exported, model_dir, lora):
    m = exported["manifest"]
    sessions = _sessions(Path(exported["out"]["dir"]), m)
    peft_model = _peft_model(model_dir, lora, seed=2)
    ids, mask, pixels = _batch(m, seed=3)
    got = _ort_logits(sessions, m, ids, mask, pixels, _adapter_feeds(peft_model, m, "vision"),
                      _adapter_feeds(peft_model, m, "decoder"))
    want = _torch_logits(peft_model, ids, mask, pixels)
    assert got.shape == (2, m["vocabSize"])
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4 * np.abs(want).max())
    with peft_model.disable_adapter():
        base = _torch_logits(peft_model, ids, mask, pixels)
    assert np.abs(want - base).max() > 1e-2, "the random adapter must change the logits for this test to mean anything"


def test_zero_adapter_is_the_base_model(exported, model_dir, lora):
    m = exported["manifest"]
    sessions = _sessions(Path(exported["out"]["dir"]), m)
    peft_model = _peft_model(model_dir, lora, seed=4)
    ids, mask, pixels = _batch(m, seed=5)
    got = _ort_logits(sessions, m, ids, mask, pixels, _adapter_feeds(peft_model, m, "vision", zero=True),
                      _adapter_feeds(peft_model, m, "decoder", zero=True))
    want = _torch_logits(ex.load_base_model(model_dir), ids, mask, pixels)
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4 * np.abs(want).max())


def test_left_padding_does_not_change_the_answer_logits(exported):
    m = exported["manifest"]
    sessions = _sessions(Path(exported["out"]["dir"]), m)
    zeros = {e["name"]: np.zeros(e["shape"], np.float32) for e in m["loraInputs"]}
    vision_feeds = {k: v for k, v in zeros.items() if k in {e["name"] for e in m["loraInputs"] if e["graph"] == "vision"}}
    decoder_feeds = {k: v for k, v in zeros.items() if k not in vision_feeds}
    ids, mask, pixels = _batch(m, seed=6)
    batched = _ort_logits(sessions, m, ids, mask, pixels, vision_feeds, decoder_feeds)
    real = mask[0] == 1
    alone = _ort_logits(sessions, m, ids[:1, real], mask[:1, real], pixels, vision_feeds, decoder_feeds)
    np.testing.assert_allclose(batched[:1], alone, rtol=1e-4, atol=1e-5)


def test_second_export_reuses_the_complete_directory(exported):
    again = ex.export_onnx(exported["payload"])
    assert again == {**exported["out"], "reused": True}
    root = Path(exported["payload"]["outputRoot"])
    assert [p.name for p in root.iterdir()] == [Path(exported["out"]["dir"]).name], "no temp dir or second artifact"


def test_cli_reuses_the_export_and_prints_json(exported, lora, capsys):
    """What `npm run up` runs on first start: one JSON line on stdout, the activity's own key and directory."""
    p = exported["payload"]
    ex.main(["--model", p["baseModel"]["path"], "--id", p["baseModel"]["id"], "--lora", json.dumps(lora),
             "--out", p["outputRoot"], "--progress"])
    out = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert out == {**exported["out"], "reused": True}


def test_cli_progress_lines_count_the_graphs(model_dir, lora, tmp_path, capsys):
    ex.main(["--model", str(model_dir), "--id", "random-llava", "--lora", json.dumps(lora), "--out", str(tmp_path),
             "--progress"])
    err = capsys.readouterr().err
    assert [line.split(" (")[0] for line in err.splitlines() if "ONNX export: step" in line] == \
        [f"[lethe] ONNX export: step {k} of 3" for k in (1, 2, 3)]


def test_a_concurrent_export_of_the_same_input_yields_one_artifact(model_dir, lora, tmp_path, monkeypatch):
    import shutil

    payload = {"baseModel": {"path": str(model_dir), "id": "random-llava"}, "lora": lora, "outputRoot": str(tmp_path)}
    final = tmp_path / ex.export_key("random-llava", LoraSettings.from_json(lora))
    real = ex._write_graphs

    def racing(request, out_dir, beat):  # another worker finishes the same export while this one runs
        manifest = real(request, out_dir, beat)
        shutil.copytree(out_dir, final)
        (final / ex.MANIFEST_NAME).write_text(json.dumps(manifest))
        return manifest

    monkeypatch.setattr(ex, "_write_graphs", racing)
    out = ex.export_onnx(payload)
    assert out == {"dir": str(final), "manifestPath": str(final / ex.MANIFEST_NAME), "reused": True}
    assert [p.name for p in tmp_path.iterdir()] == [final.name], "the loser's temp dir is removed"


def test_export_key_depends_on_model_id_and_lora_only():
    lora = LoraSettings.from_json({"rank": 4, "alpha": 8, "dropout": 0.0, "targets": "llm"})
    assert ex.export_key("m", lora) == ex.export_key("m", LoraSettings.from_json({"rank": 4, "alpha": 8.0, "dropout": 0, "targets": "llm"}))
    assert ex.export_key("m", lora) != ex.export_key("n", lora)
    assert ex.export_key("m", lora) != ex.export_key("m", LoraSettings.from_json({"rank": 8, "alpha": 8, "dropout": 0.0, "targets": "llm"}))


@pytest.mark.parametrize(
    "mutate, code, message",
    [
        (lambda p: p["lora"].update(targets=["no_such_proj"]), WorkerError.LORA_TARGET_NO_MATCH, "'no_such_proj' matches no Linear"),
        (lambda p: p["lora"].update(targets=["embed_tokens"]), WorkerError.LORA_TARGET_NO_MATCH, "'embed_tokens' matches no Linear"),
        (lambda p: p["baseModel"].update(path="/nonexistent/model"), WorkerError.MODEL_NOT_FOUND, "/nonexistent/model"),
        (lambda p: p["lora"].update(rank=0), WorkerError.INVALID_INPUT, "lora.rank"),
    ],
)
def test_bad_input_is_a_clear_non_retryable_error(model_dir, tmp_path, mutate, code, message):
    payload = {"baseModel": {"path": str(model_dir), "id": "random-llava"},
               "lora": {"rank": 2, "alpha": 2, "dropout": 0.0, "targets": "llm"}, "outputRoot": str(tmp_path)}
    mutate(payload)
    with pytest.raises(WorkerError, match=message) as raised:
        ex.export_onnx(payload)
    assert raised.value.code == code
    assert list(tmp_path.iterdir()) == [], "a failed export leaves nothing behind"


def test_tiny_llava_export_matches_peft_on_real_prompts(world, tmp_path):
    """The built tiny LLaVA, `llm` preset (the vision graph then has no LoRA inputs), real processor batches."""
    from lethe_worker.datasets import load_dataset
    from lethe_worker.model_io import load_processor
    from lethe_worker.scoring import build_mc_batch

    lora = {"rank": 4, "alpha": 8, "dropout": 0.0, "targets": "llm"}
    out = ex.export_onnx({"baseModel": {"path": str(world["model"]), "id": "tiny"}, "lora": lora, "outputRoot": str(tmp_path)})
    m = json.loads(Path(out["manifestPath"]).read_text())
    assert {e["graph"] for e in m["loraInputs"]} == {"decoder"}
    sessions = _sessions(Path(out["dir"]), m)
    peft_model = _peft_model(world["model"], lora, seed=8)
    items = load_dataset(world["dataset"]).eval_items()
    batch = build_mc_batch(load_processor(world["model"]), [items[0], items[1], items[-1], items[len(items) // 2]])
    ids, mask = batch["input_ids"].numpy(), batch["attention_mask"].numpy()
    assert (mask == 0).any(), "the batch must contain left padding"
    pixels = batch["pixel_values"].numpy().astype(np.float32)
    got = _ort_logits(sessions, m, ids, mask, pixels, {}, _adapter_feeds(peft_model, m, "decoder"))
    want = _torch_logits(peft_model, ids, mask, pixels)
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4 * np.abs(want).max())


# ---------------------------------------------------------------------------------------------
# graphs past 2 GB: the exporter's one-file-per-tensor external data, gathered into <graph>.onnx.data


def _scattered_model(directory: Path) -> Path:
    """A small ONNX model (y = x @ W + b) whose two initializers are external files of their own, as the
    TorchScript exporter writes a graph past 2 GB."""
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(0)
    w = numpy_helper.from_array(rng.standard_normal((8, 5)).astype(np.float32), "W")
    b = numpy_helper.from_array(rng.standard_normal((5,)).astype(np.float32), "b")
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["x", "W"], ["xw"]), helper.make_node("Add", ["xw", "b"], ["y"])], "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [None, 8])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [None, 5])], initializer=[w, b])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", ex.ONNX_OPSET)], ir_version=10)
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "g.onnx"
    onnx.save_model(model, str(path), save_as_external_data=True, all_tensors_to_one_file=False, size_threshold=0)
    return path


def test_gathered_external_data_is_one_aligned_file_with_the_same_outputs(tmp_path):
    src = _scattered_model(tmp_path / "scattered")
    assert len(list(src.parent.iterdir())) == 3  # the graph + one file per tensor
    dst = tmp_path / "out" / "g.onnx"
    dst.parent.mkdir()
    ex.gather_external_data(src, dst)
    assert sorted(f.name for f in dst.parent.iterdir()) == ["g.onnx", "g.onnx.data"]
    for tensor in onnx.load(str(dst), load_external_data=False).graph.initializer:
        info = {e.key: e.value for e in tensor.external_data}
        assert info["location"] == "g.onnx.data" and int(info["offset"]) % ex.EXTERNAL_DATA_ALIGNMENT == 0
    x = np.random.default_rng(1).standard_normal((3, 8)).astype(np.float32)
    want = ort.InferenceSession(str(src)).run(None, {"x": x})[0]
    got = ort.InferenceSession(str(dst)).run(None, {"x": x})[0]
    np.testing.assert_array_equal(got, want)


def test_an_export_directory_holds_the_manifest_and_the_graphs_only(exported):
    out = Path(exported["out"]["dir"])
    assert sorted(f.name for f in out.iterdir()) == sorted([ex.MANIFEST_NAME, *ex.GRAPH_FILES.values()])


def test_graphs_written_with_external_data_are_gathered_per_graph(model_dir, lora, exported, tmp_path, monkeypatch):
    """What a graph past 2 GB goes through, on the small model: the exporter's output rewritten as one external
    file per tensor (as torch writes it past 2 GB) must come out as <graph>.onnx + <graph>.onnx.data, same logits."""
    real_export = torch.onnx.export

    def scattering_export(module, args, f, **kwargs):
        real_export(module, args, f, **kwargs)
        model = onnx.load(f)
        onnx.save_model(model, f, save_as_external_data=True, all_tensors_to_one_file=False, size_threshold=0)

    monkeypatch.setattr(torch.onnx, "export", scattering_export)
    payload = {"baseModel": {"path": str(model_dir), "id": "random-llava"}, "lora": lora, "outputRoot": str(tmp_path)}
    out = Path(ex.export_onnx(payload)["dir"])
    graphs = list(ex.GRAPH_FILES.values())
    assert sorted(f.name for f in out.iterdir()) == sorted([ex.MANIFEST_NAME, *graphs, *(g + ".data" for g in graphs)])
    base = Path(exported["out"]["dir"])
    ids = np.array([[PAD_TOKEN_ID, 4, 8, 9, 6]], dtype=np.int64)
    want = ort.InferenceSession(str(base / "embed.onnx")).run(None, {"input_ids": ids})[0]
    got = ort.InferenceSession(str(out / "embed.onnx")).run(None, {"input_ids": ids})[0]
    np.testing.assert_array_equal(got, want)
    manifest = exported["manifest"]
    feeds = {"inputs_embeds": want, "attention_mask": np.array([[0, 1, 1, 1, 1]], dtype=np.int64)}
    feeds.update({i["name"]: np.full(i["shape"], 0.01, dtype=np.float32) for i in manifest["loraInputs"] if i["graph"] == "decoder"})
    np.testing.assert_allclose(ort.InferenceSession(str(out / "decoder.onnx")).run(None, feeds)[0],
                               ort.InferenceSession(str(base / "decoder.onnx")).run(None, feeds)[0], rtol=1e-5, atol=1e-5)
