"""Model artifacts on disk: checksums, the onnxruntime session, the thread count.

Both engines (text and tongue) and the training export steps share these so a
corrupt or partial install fails the same way everywhere, with a message that
names the file, and so the CPU is used the same way by every model.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

CHECKSUMS = "SHA256SUMS"


class ModelError(RuntimeError):
    """The model files are missing, corrupt or unreadable."""


def default_threads() -> int:
    """Two threads at most: a clinic PC has few cores and the UI must stay responsive."""
    return min(2, os.cpu_count() or 1)


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def write_checksums(model_dir: Path) -> None:
    lines = [f"{sha256(p)}  {p.name}" for p in sorted(model_dir.iterdir()) if p.is_file() and p.suffix in (".onnx", ".json")]
    (model_dir / CHECKSUMS).write_text("\n".join(lines) + "\n", encoding="utf-8")


def verify_checksums(model_dir: Path) -> None:
    sums = model_dir / CHECKSUMS
    if not sums.exists():
        raise ModelError(f"model checksum file missing: {sums}")
    for line in sums.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        digest, name = line.split(maxsplit=1)
        path = model_dir / name.strip()
        if not path.exists():
            raise ModelError(f"model file missing: {path}")
        if sha256(path) != digest:
            raise ModelError(f"model file corrupt (checksum mismatch): {path}")


def onnx_session(path: Path, threads: int | None = None, mem_pattern: bool = True, arena: bool = True,
                 spinning: bool = False) -> Any:
    """A CPU onnxruntime session with the app's options; any load failure becomes :class:`ModelError`.

    ``arena=False`` and ``mem_pattern=False`` free each run's activations when
    it ends instead of keeping the largest batch's buffers for the life of the
    process, so the text model's peak memory is one batch's activations.
    Intra-op threads do not spin-wait for work (``spinning=False``): the app
    shares two cores with its own UI and Python rule steps, and spinning
    workers take the core those need. ``docs/benchmarks.md`` compares these
    settings with the ones before (issue 14).
    """
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads or default_threads()
    opts.inter_op_num_threads = 1
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    opts.enable_mem_pattern = mem_pattern
    opts.enable_cpu_mem_arena = arena
    opts.log_severity_level = 3
    opts.add_session_config_entry("session.intra_op.allow_spinning", "1" if spinning else "0")
    try:
        return ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
    except Exception as exc:  # onnxruntime raises several exception types
        raise ModelError(f"cannot load {path}: {exc}") from exc
