"""Export a trained text model to the shipped artifact: ONNX (FP32 and INT8) + JSON.

    python -m tcm_desktop.training.export_ner --run RUN_DIR --out models/ner [--prune-ffn 0.5]

The emission network is exported with the dynamo exporter (dynamic batch and
length); the CRF transitions, tag list, vocabulary, lexicon and normalisation
tables go in JSON beside it; decoding happens in numpy at run time. INT8 uses
onnxruntime's dynamic quantization for MatMul/Gemm (weights int8, activations
quantized on the fly). Every export is checked against torch before it is
written: FP32 emissions must match within 1e-3.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path

import numpy as np
import onnxruntime as ort
import torch

from tcm_desktop.artifacts import write_checksums
from tcm_desktop.text.lexicon import Lexicon
from tcm_desktop.text.runtime import ARTIFACT_FILES
from tcm_desktop.training.cli_args import export_args
from tcm_desktop.training.lexicon_build import herb_aliases, syndrome_synonyms
from tcm_desktop.training.ner_data import Vocab
from tcm_desktop.training.ner_model import ModelConfig, NerModel


def load_run(run: Path) -> tuple[NerModel, Vocab, Lexicon | None, dict]:
    conf = json.loads((run / "config.json").read_text(encoding="utf-8"))
    cfg = ModelConfig(**conf["model"])
    model = NerModel(cfg, conf["tags"])
    state = torch.load(run / "model.pt", map_location="cpu", weights_only=True)
    if any(k.endswith("_pruned_shape") for k in state):
        raise ValueError("pruned checkpoints are loaded with load_pruned")
    model.load_state_dict(state)
    model.eval()
    vocab = Vocab(json.loads((run / "vocab.json").read_text(encoding="utf-8"))[3:])
    lex = Lexicon.load(run / "lexicon.json") if (run / "lexicon.json").exists() else None
    return model, vocab, lex, conf


def sample_inputs(vocab: Vocab, lexicon: Lexicon | None, n_lex: int, texts: list[str], max_len: int):
    t = min(max(len(x) for x in texts), max_len)
    ids = np.zeros((len(texts), t), np.int64)
    lex = np.zeros((len(texts), t, n_lex), np.float32)
    mask = np.zeros((len(texts), t), bool)
    for i, x in enumerate(texts):
        x = x[:t]
        ids[i, : len(x)] = vocab.encode(x)
        if lexicon is not None and n_lex:
            lex[i, : len(x)] = lexicon.features(x)
        mask[i, : len(x)] = True
    return ids, lex, mask


PARITY_TEXTS = [
    "主诉：反复胃脘胀痛3年，加重1周。舌淡红，边有齿痕，苔薄白，脉弦细。",
    "处方：柴胡疏肝散加减：柴胡10g，白芍15g，炙甘草6g。7剂，水煎服，日一剂。",
    "既往高血压病史10年，否认糖尿病史。血压150/95mmHg，空腹血糖7.8mmol/L。",
    "针刺足三里、三阴交、合谷，留针30分钟。",
]


def export_onnx(model: NerModel, path: Path, ids, lex, mask) -> None:
    em = model.emissions.eval()
    batch = torch.export.Dim("batch", min=1, max=1024)
    length = torch.export.Dim("length", min=2, max=model.cfg.max_len)
    dyn = {"ids": {0: batch, 1: length}, "lex": {0: batch, 1: length}, "mask": {0: batch, 1: length}}
    with torch.no_grad():
        torch.onnx.export(
            em, (torch.from_numpy(ids), torch.from_numpy(lex), torch.from_numpy(mask)), str(path),
            input_names=["ids", "lex", "mask"], output_names=["emissions"], dynamic_shapes=dyn, dynamo=True,
            external_data=False, optimize=True,
        )
    _symbolic_output_shape(path)


def _symbolic_output_shape(path: Path) -> None:
    """Declare the output as [batch, length, tags] (the exporter can bake the sample length in)."""
    import onnx

    m = onnx.load(str(path))
    dims = m.graph.output[0].type.tensor_type.shape.dim
    for d, name in zip(dims, ("batch", "length")):
        d.ClearField("dim_value")
        d.dim_param = name
    onnx.save(m, str(path))


def check_parity(model: NerModel, onnx_path: Path, ids, lex, mask, atol: float) -> float:
    with torch.no_grad():
        ref = model.emissions(torch.from_numpy(ids), torch.from_numpy(lex), torch.from_numpy(mask)).numpy()
    sess = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    out = sess.run(None, {"ids": ids, "lex": lex, "mask": mask})[0]
    m = mask[..., None]
    diff = float(np.abs((out - ref) * m).max())
    if diff > atol:
        raise RuntimeError(f"ONNX emissions differ from torch by {diff:.2e} > {atol:.0e}: export is wrong")
    return diff


def quantize_int8(fp32: Path, int8: Path, exclude: list[str] | None = None) -> None:
    from onnxruntime.quantization import QuantType, quantize_dynamic

    quantize_dynamic(
        str(fp32), str(int8), weight_type=QuantType.QInt8, op_types_to_quantize=["MatMul", "Gemm"],
        nodes_to_exclude=exclude or [], per_channel=False,
    )


def write_artifact(model: NerModel, vocab: Vocab, lexicon: Lexicon | None, out: Path, *, ids, lex, mask, notes: dict, int8_exclude: list[str] | None = None) -> dict:
    out.mkdir(parents=True, exist_ok=True)
    fp32 = out / "model.fp32.onnx"
    int8 = out / ARTIFACT_FILES["int8"]
    export_onnx(model, fp32, ids, lex, mask)
    diff = check_parity(model, fp32, ids, lex, mask, atol=1e-3)
    # and at other shapes than the export's sample: a specialised dimension shows up here
    diff = max(diff, check_parity(model, fp32, ids[:1, :7], lex[:1, :7], mask[:1, :7], atol=1e-3))
    big = np.concatenate([ids] * 3), np.concatenate([lex] * 3), np.concatenate([mask] * 3)
    big[2][1, 5:] = False
    diff = max(diff, check_parity(model, fp32, *big, atol=1e-3))
    quantize_int8(fp32, int8, int8_exclude)
    trans, start, end = (t.detach().numpy().tolist() for t in model.crf.constrained())
    meta = {
        "version": dt.datetime.now(dt.UTC).strftime("ner-%Y%m%d-%H%M"),
        "tags": model.tags,
        "transitions": trans,
        "start": start,
        "end": end,
        "vocab": vocab.itos,
        "max_len": model.cfg.max_len,
        "n_lex": model.cfg.n_lex,
        "config": model.cfg.to_dict(),
        "fp32_parity_max_abs_diff": diff,
        **notes,
    }
    (out / ARTIFACT_FILES["meta"]).write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")
    (out / ARTIFACT_FILES["lexicon"]).write_text(json.dumps(lexicon.to_json() if lexicon else {"terms": {}}, ensure_ascii=False), encoding="utf-8")
    norm = {"herb_aliases": {k: list(v) for k, v in herb_aliases().items()}, "syndrome_synonyms": syndrome_synonyms()}
    (out / ARTIFACT_FILES["normalization"]).write_text(json.dumps(norm, ensure_ascii=False), encoding="utf-8")
    write_checksums(out)
    return meta


def main(argv: list[str] | None = None) -> int:
    args = export_args(argv, __doc__, "keep model.fp32.onnx beside the INT8 model")
    model, vocab, lexicon, conf = load_run(args.run)
    ids, lex, mask = sample_inputs(vocab, lexicon, model.cfg.n_lex, PARITY_TEXTS, model.cfg.max_len)
    meta = write_artifact(model, vocab, lexicon, args.out, ids=ids, lex=lex, mask=mask, notes={"run": str(args.run.name)})
    if not args.keep_fp32:
        (args.out / "model.fp32.onnx").unlink()
        write_checksums(args.out)
    print(json.dumps({k: meta[k] for k in ("version", "max_len", "n_lex", "fp32_parity_max_abs_diff")}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
