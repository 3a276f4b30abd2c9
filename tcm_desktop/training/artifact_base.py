"""A trainable torch run rebuilt from a shipped INT8 model artifact.

    python -m tcm_desktop.training.artifact_base --model models/ner --out RUN_DIR

Why: the repository ships the INT8 ONNX artifact but no torch weights, and the
training runs are not in the repository. Shipping a second, FP32 copy of the
same network (~35 MB) would quadruple the model's size for one feature, while
the INT8 file already holds every weight: dynamic quantization stores each
MatMul weight as int8 with one scale and zero point, everything else (embeddings,
LayerNorms, biases, LSTM, CRF in ``model.json``) stays FP32. So the base for
adaptation is rebuilt exactly: ``weight = (q - zero_point) * scale``, transposed
back to ``nn.Linear`` layout. The result *is* the network the app runs (with
FP32 activations), and adaptation starts from it; any artifact this project
writes, an adapted one included, can be a base, so adaptations chain.

Names are found through the graph, not guessed: each ``MatMulInteger``'s output
flows (through Cast/Mul) into an ``Add`` with a named ``*.bias`` initializer,
which names the ``nn.Linear``; each LSTM node's weight inputs lead back to the
named ``lstm_*.weight_*`` initializers. The rebuilt model is checked against the
ONNX session: the decoded tags must agree and the emissions stay within the
int8-activation noise (``check``), otherwise the rebuild refuses.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import deque
from pathlib import Path

import numpy as np
import onnx
import torch
from onnx import numpy_helper

from tcm_desktop.text.lexicon import Lexicon
from tcm_desktop.text.runtime import ARTIFACT_FILES
from tcm_desktop.training.ner_model import ModelConfig, NerModel

#: ONNX LSTM gate order is i, o, f, c; torch's is i, f, g(c), o.
_ONNX_TO_TORCH_GATES = (0, 2, 3, 1)


class RebuildError(RuntimeError):
    """The artifact cannot be turned back into a trainable model (said in one sentence)."""


def _linear_weights(graph: onnx.GraphProto, arrays: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """``{linear_name.weight: [out, in] float32}`` for every quantized MatMul."""
    consumers: dict[str, list[onnx.NodeProto]] = {}
    for node in graph.node:
        for name in node.input:
            consumers.setdefault(name, []).append(node)
    out: dict[str, np.ndarray] = {}
    for node in graph.node:
        if node.op_type not in ("MatMulInteger", "MatMul"):
            continue
        w_name = node.input[1]
        if w_name not in arrays:
            continue
        if node.op_type == "MatMulInteger":
            base = w_name[: -len("_quantized")]
            q = arrays[w_name].astype(np.float32)
            w = (q - arrays[base + "_zero_point"].astype(np.float32)) * arrays[base + "_scale"].astype(np.float32)
        else:
            w = arrays[w_name].astype(np.float32)
        bias = _downstream_bias(node, consumers, arrays)
        if bias is None:
            raise RebuildError(f"cannot tell which layer the weight {w_name} belongs to")
        out[bias[: -len(".bias")] + ".weight"] = np.ascontiguousarray(w.T)
    return out


def _downstream_bias(node: onnx.NodeProto, consumers, arrays) -> str | None:
    """The named ``*.bias`` initializer added to this MatMul's output within a few steps."""
    queue = deque((o, 0) for o in node.output)
    while queue:
        name, depth = queue.popleft()
        for nxt in consumers.get(name, []):
            if nxt.op_type == "Add":
                named = [i for i in nxt.input if i in arrays and i.endswith(".bias")]
                if named:
                    return named[0]
            if depth < 4 and nxt.op_type in ("Cast", "Mul", "Add", "Reshape"):
                queue.extend((o, depth + 1) for o in nxt.output)
    return None


def _lstm_weights(graph: onnx.GraphProto, arrays: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Torch LSTM parameters from each ONNX LSTM node (biases are folded into ``B``).

    Large weights stay named initializers (``lstm_f.weight_ih_l0``) reshaped in
    the graph; small ones are constant-folded into the node's ``W``/``R`` inputs
    in ONNX layout (``[1, 4H, in]``, gates i, o, f, c), which are reordered back.
    Which node is which: the named weight it reads, else graph order (forward first).
    """
    producers = {o: n for n in graph.node for o in n.output}
    out: dict[str, np.ndarray] = {}
    for k, node in enumerate(n for n in graph.node if n.op_type == "LSTM"):
        owner = _upstream_named(node.input[1], producers, arrays, ".weight_ih_l0")
        prefix = owner[: -len(".weight_ih_l0")] if owner else ("lstm_f", "lstm_b")[min(k, 1)]
        for slot, name in ((1, "weight_ih_l0"), (2, "weight_hh_l0")):
            if node.input[slot] in arrays:
                out[f"{prefix}.{name}"] = _torch_gates(arrays[node.input[slot]][0])
            elif f"{prefix}.{name}" in arrays:
                out[f"{prefix}.{name}"] = arrays[f"{prefix}.{name}"]
            else:
                raise RebuildError(f"cannot find the {prefix} {name} weights in the artifact")
        b = arrays[node.input[3]].reshape(2, 4, -1)  # [W bias, R bias] x 4 gates (ONNX order)
        out[prefix + ".bias_ih_l0"] = b[0, list(_ONNX_TO_TORCH_GATES)].reshape(-1)
        out[prefix + ".bias_hh_l0"] = b[1, list(_ONNX_TO_TORCH_GATES)].reshape(-1)
    return out


def _torch_gates(w: np.ndarray) -> np.ndarray:
    """``[4H, in]`` from ONNX gate order (i, o, f, c) to torch's (i, f, g, o)."""
    h = w.shape[0] // 4
    return np.concatenate([w[g * h:(g + 1) * h] for g in _ONNX_TO_TORCH_GATES])


def _upstream_named(name: str, producers, arrays, suffix: str) -> str | None:
    queue, seen = deque([name]), set()
    while queue:
        cur = queue.popleft()
        if cur in seen:
            continue
        seen.add(cur)
        if cur in arrays and cur.endswith(suffix):
            return cur
        node = producers.get(cur)
        if node is not None:
            queue.extend(node.input)
    return None


def rebuild(model_dir: Path) -> tuple[NerModel, dict, Lexicon]:
    """The torch model, the artifact's ``model.json`` and its lexicon."""
    meta = json.loads((model_dir / ARTIFACT_FILES["meta"]).read_text(encoding="utf-8"))
    lexicon = Lexicon.load(model_dir / ARTIFACT_FILES["lexicon"])
    if "config" not in meta:
        raise RebuildError(f"{model_dir} has no model config in model.json; pass a training run with --base")
    graph = onnx.load(str(model_dir / ARTIFACT_FILES["int8"])).graph
    arrays = {i.name: numpy_helper.to_array(i) for i in graph.initializer}
    model = NerModel(ModelConfig(**meta["config"]), meta["tags"])
    state = {k: torch.from_numpy(np.array(v, dtype=np.float32)) for k, v in arrays.items()
             if k.startswith(("bert.", "lex_proj.", "lstm_", "out.")) and v.dtype == np.float32}
    state.update({k: torch.from_numpy(np.array(v, np.float32)) for k, v in _linear_weights(graph, arrays).items()})
    state.update({k: torch.from_numpy(np.array(v, np.float32)) for k, v in _lstm_weights(graph, arrays).items()})
    state = {"emissions." + k: v for k, v in state.items()}
    state["crf.transitions"] = torch.tensor(meta["transitions"], dtype=torch.float32)
    state["crf.start"] = torch.tensor(meta["start"], dtype=torch.float32)
    state["crf.end"] = torch.tensor(meta["end"], dtype=torch.float32)
    wanted = model.state_dict()
    state = {k: v for k, v in state.items() if k in wanted}
    missing = [k for k in wanted if k not in state and not k.endswith("position_ids")]
    if missing:
        raise RebuildError(f"the artifact lacks {len(missing)} weights (e.g. {missing[0]}); pass a training run with --base")
    model.load_state_dict(state, strict=False)
    model.eval()
    return model, meta, lexicon


def check(model: NerModel, model_dir: Path, lexicon: Lexicon, texts: list[str]) -> dict:
    """Compare the rebuilt torch model with the artifact's ONNX session on ``texts``."""
    from tcm_desktop.artifacts import onnx_session
    from tcm_desktop.text.tagging import viterbi
    from tcm_desktop.training.export_ner import sample_inputs
    from tcm_desktop.training.ner_data import Vocab

    meta = json.loads((model_dir / ARTIFACT_FILES["meta"]).read_text(encoding="utf-8"))
    vocab = Vocab(meta["vocab"][3:])
    ids, lex, mask = sample_inputs(vocab, lexicon, model.cfg.n_lex, texts, model.cfg.max_len)
    with torch.no_grad():
        ref = model.emissions(torch.from_numpy(ids), torch.from_numpy(lex), torch.from_numpy(mask)).numpy()
    out = onnx_session(model_dir / ARTIFACT_FILES["int8"], 1).run(None, {"ids": ids, "lex": lex, "mask": mask})[0]
    trans, start, end = (t.detach().numpy() for t in model.crf.constrained())
    same = total = 0
    for b in range(len(texts)):
        n = int(mask[b].sum())
        p1, _ = viterbi(ref[b, :n], trans, start, end)
        p2, _ = viterbi(out[b, :n], trans, start, end)
        same += sum(int(x == y) for x, y in zip(p1, p2))
        total += n
    diff = float(np.abs((out - ref) * mask[..., None]).max())
    return {"tag_agreement": same / max(total, 1), "max_abs_diff": diff}


def write_run(model: NerModel, meta: dict, lexicon: Lexicon, out: Path, source: str) -> Path:
    """A run folder ``train_ner --init`` and ``export_ner`` read (config, vocab, lexicon, model.pt)."""
    out.mkdir(parents=True, exist_ok=True)
    conf = {"model": model.cfg.to_dict(), "tags": model.tags, "args": {"rebuilt_from": source, "version": meta["version"]}}
    (out / "config.json").write_text(json.dumps(conf, ensure_ascii=False, indent=1), encoding="utf-8")
    (out / "vocab.json").write_text(json.dumps(meta["vocab"], ensure_ascii=False), encoding="utf-8")
    (out / "lexicon.json").write_text(json.dumps(lexicon.to_json(), ensure_ascii=False), encoding="utf-8")
    torch.save(model.state_dict(), out / "model.pt")
    return out


def run_from_artifact(model_dir: Path, out: Path, min_agreement: float = 0.97) -> Path:
    """Rebuild, check against ONNX, write a run folder; raise :class:`RebuildError` when they disagree."""
    from tcm_desktop.training.export_ner import PARITY_TEXTS

    model, meta, lexicon = rebuild(model_dir)
    res = check(model, model_dir, lexicon, PARITY_TEXTS)
    if res["tag_agreement"] < min_agreement:
        raise RebuildError(f"the rebuilt model disagrees with {model_dir} on {1 - res['tag_agreement']:.1%} of tags")
    return write_run(model, meta, lexicon, out, str(model_dir))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", type=Path, default=Path("models/ner"))
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args(argv)
    from tcm_desktop.training.export_ner import PARITY_TEXTS

    model, meta, lexicon = rebuild(args.model)
    print(json.dumps(check(model, args.model, lexicon, PARITY_TEXTS)))
    write_run(model, meta, lexicon, args.out, str(args.model))
    return 0


if __name__ == "__main__":
    sys.exit(main())
