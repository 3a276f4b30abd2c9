"""Export a trained (optionally pruned) TongueNet to the shipped artifact in models/tongue.

    python -m tcm_desktop.training.tongue.export --run runs/tongue/main --out models/tongue

Steps: dynamo ONNX export at the deployment size (batch 1, static shape) ->
parity check against torch (mask logits and attribute logits within 1e-3;
the legacy exporter once gave silently wrong EfficientNet outputs here, so a
failed check aborts) -> static QDQ INT8 quantization with onnxruntime,
calibrated on training images of all three sources -> INT8 vs FP32 parity on
validation images (mask Dice and attribute agreement) -> ``tongue.json`` and
``SHA256SUMS``.
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
from tcm_desktop.tongue.engine import ARTIFACT_FILES
from tcm_desktop.training.cli_args import export_args
from tcm_desktop.training.tongue.data import ATTRS, CLASSES, SOURCES, Cache, load_cache
from tcm_desktop.training.tongue.evaluate import dice_iou


def export_onnx(model: torch.nn.Module, path: Path, size: int) -> None:
    model = model.eval()
    x = torch.rand(1, 3, size, size) * 255
    with torch.no_grad():
        torch.onnx.export(model, (x,), str(path), input_names=["image"], output_names=["mask_logits", "attr_logits"],
                          dynamo=True, external_data=False, optimize=True)


def check_parity(model: torch.nn.Module, path: Path, images: np.ndarray, atol: float = 1e-3) -> float:
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    worst = 0.0
    for im in images:
        x = np.ascontiguousarray(im.transpose(2, 0, 1)[None].astype(np.float32))
        with torch.no_grad():
            ref = [t.numpy() for t in model(torch.from_numpy(x))]
        out = sess.run(None, {"image": x})
        for r, o in zip(ref, out):
            worst = max(worst, float(np.abs(r - o).max()))
    if worst > atol:
        raise RuntimeError(f"ONNX outputs differ from torch by {worst:.2e} > {atol:.0e}: export is wrong")
    return worst


class _Reader:
    def __init__(self, images: np.ndarray):
        self.it = iter([{"image": np.ascontiguousarray(im.transpose(2, 0, 1)[None].astype(np.float32))} for im in images])

    def get_next(self):
        return next(self.it, None)


def quantize_int8(fp32: Path, int8: Path, calib: np.ndarray) -> None:
    from onnxruntime.quantization import CalibrationMethod, QuantFormat, QuantType, quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process

    pre = fp32.with_suffix(".pre.onnx")
    try:
        quant_pre_process(str(fp32), str(pre), skip_symbolic_shape=True)
        src = pre
    except Exception:  # pre-processing is an optimisation; quantize the raw graph if it fails
        src = fp32
    quantize_static(str(src), str(int8), _Reader(calib), quant_format=QuantFormat.QDQ, per_channel=True,
                    activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8, calibrate_method=CalibrationMethod.MinMax)
    if pre.exists():
        pre.unlink()


def int8_parity(fp32: Path, int8: Path, images: np.ndarray) -> dict:
    s32 = ort.InferenceSession(str(fp32), providers=["CPUExecutionProvider"])
    s8 = ort.InferenceSession(str(int8), providers=["CPUExecutionProvider"])
    dice, agree = [], []
    for im in images:
        x = np.ascontiguousarray(im.transpose(2, 0, 1)[None].astype(np.float32))
        a, b = s32.run(None, {"image": x}), s8.run(None, {"image": x})
        dice.append(dice_iou(a[0][0, 0] > 0, b[0][0, 0] > 0)[0])
        agree.append(np.mean(a[1][0].argmax(-1) == b[1][0].argmax(-1)))
    return {"mask_dice_int8_vs_fp32": round(float(np.mean(dice)), 4), "attr_argmax_agreement": round(float(np.mean(agree)), 4), "n": len(images)}


def pick(c: Cache, split: str, n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    idx = np.concatenate([rng.permutation(c.index(s, split))[: max(1, n // 3)] for s in SOURCES])
    return c.images[idx]


def write_artifact(model: torch.nn.Module, c: Cache, out: Path, size: int, notes: dict, keep_fp32: bool = False) -> dict:
    out.mkdir(parents=True, exist_ok=True)
    fp32 = out / "tongue.fp32.onnx"
    int8 = out / ARTIFACT_FILES["int8"]
    export_onnx(model, fp32, size)
    diff = check_parity(model, fp32, pick(c, "val", 12, 1))
    quantize_int8(fp32, int8, pick(c, "train", 96, 2))
    par = int8_parity(fp32, int8, pick(c, "val", 48, 3))
    meta = {
        "version": dt.datetime.now(dt.UTC).strftime("tongue-%Y%m%d-%H%M"),
        "size": size,
        "attributes": list(ATTRS),
        "classes": {a: list(CLASSES[a]) for a in ATTRS},
        "fp32_parity_max_abs_diff": diff,
        "int8_parity": par,
        **notes,
    }
    (out / ARTIFACT_FILES["meta"]).write_text(json.dumps(meta, ensure_ascii=False, indent=1), encoding="utf-8")
    if not keep_fp32:
        fp32.unlink()
    write_checksums(out)
    return meta


def main(argv: list[str] | None = None) -> int:
    args = export_args(argv, __doc__)
    torch.set_num_threads(1)
    from tcm_desktop.training.tongue.train_seg import load_run

    model, conf = load_run(args.run)
    c = load_cache(conf["size"])
    meta = write_artifact(model, c, args.out, conf["size"], {"run": args.run.name}, keep_fp32=args.keep_fp32)
    print(json.dumps(meta, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
