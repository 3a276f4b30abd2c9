"""Standard compositions of classical formulas: build the shipped table, load it.

The table comes from the formula–herb ``composition`` relations of the
fengxi177 TCM knowledge graph (``$TCM_DATA_DIR/text/lex_fengxi_kg``). A
formula name there can stand for several different prescriptions from
different books (``鳖甲汤_1`` … ``鳖甲汤_9``), so every variant is kept and the
comparison picks the one closest to what was prescribed. Herb names are
normalised with the app's :class:`~tcm_desktop.text.values.Normalizer` (the
same aliases the engine uses), so ``炙甘草`` in a record and ``甘草`` in the
table meet. Formula aliases (``another name``) point to the same variants.

    python -m tcm_desktop.text.compositions [--kg DIR] [--out resources/formulas/compositions.json]
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from tcm_desktop.config import data_dir, models_dir, resources_dir
from tcm_desktop.text.values import Normalizer

RESOURCE = Path("formulas") / "compositions.json"
SOURCE = "fengxi177/Knowlegde_Graph_TCM relations_fangji.json (composition, prescription type, another name)"

#: Old or variant spellings in the classical sources that the team's alias table (written for modern
#: records) does not cover; applied before the Normalizer.
KG_SPELLINGS: Mapping[str, str] = {"黄耆": "黄芪", "栝楼": "瓜蒌", "归尾": "当归尾", "苡仁": "薏苡仁", "元参": "玄参"}


@dataclass(frozen=True)
class Variant:
    id: str  # e.g. 鳖甲汤_1
    herbs: tuple[str, ...]  # canonical names, in the source's order


class FormulaBook:
    """Formula name (or alias) → its standard composition variants."""

    def __init__(self, formulas: Mapping[str, list[Variant]], aliases: Mapping[str, str] | None = None) -> None:
        self.formulas = dict(formulas)
        self.aliases = dict(aliases or {})

    def __len__(self) -> int:
        return len(self.formulas)

    def variants(self, name: str) -> list[Variant]:
        """Variants for a formula as written; 加减/加味 and a trailing 方 are ignored, aliases followed."""
        n = name.strip()
        for suffix in ("加减", "加味", "化裁"):
            if n.endswith(suffix) and len(n) > len(suffix):
                n = n[: -len(suffix)]
        for candidate in (n, self.aliases.get(n, "")):
            if candidate in self.formulas:
                return self.formulas[candidate]
        return []

    def to_json(self) -> dict:
        return {
            "source": SOURCE,
            "formulas": {k: [{"id": v.id, "herbs": list(v.herbs)} for v in vs] for k, vs in sorted(self.formulas.items())},
            "aliases": dict(sorted(self.aliases.items())),
        }

    @classmethod
    def from_json(cls, data: Mapping) -> FormulaBook:
        formulas = {k: [Variant(v["id"], tuple(v["herbs"])) for v in vs] for k, vs in data.get("formulas", {}).items()}
        return cls(formulas, data.get("aliases", {}))

    @classmethod
    def load(cls, path: str | Path | None = None) -> FormulaBook:
        """The shipped table; an empty book when the file is missing (comparisons then say 'unknown')."""
        p = Path(path) if path is not None else resources_dir() / RESOURCE
        if not p.is_file():
            return cls({})
        return cls.from_json(json.loads(p.read_text(encoding="utf-8")))


@lru_cache(maxsize=1)
def default_book() -> FormulaBook:
    return FormulaBook.load()


def _node(s: str) -> tuple[str, str]:
    kind, _, name = s.partition("\t")
    return kind.strip(), name.strip()


def build_book(relations: list[Mapping[str, str]], normalizer: Normalizer) -> FormulaBook:
    """Compositions from the knowledge graph's relation list."""
    variants_of: dict[str, list[str]] = {}
    herbs_of: dict[str, list[str]] = {}
    aliases: dict[str, str] = {}
    for r in relations:
        (k1, n1), (k2, n2), rel = _node(r["node_1"]), _node(r["node_2"]), r["relation"]
        if rel == "prescription type" and k1 == "方名" and k2 == "处方":
            variants_of.setdefault(n1, []).append(n2)
        elif rel == "composition" and k1 == "处方" and k2 == "中药名" and n2:
            canonical = normalizer.herb(KG_SPELLINGS.get(n2, n2))["canonical"]
            herbs = herbs_of.setdefault(n1, [])
            if canonical not in herbs:
                herbs.append(canonical)
        elif rel == "another name" and k1 == "方名" and n2 and n2 != n1:
            aliases.setdefault(n2, n1)
    formulas = {
        name: [Variant(v, tuple(herbs_of[v])) for v in dict.fromkeys(ids) if herbs_of.get(v)]
        for name, ids in variants_of.items()
    }
    formulas = {k: v for k, v in formulas.items() if v}
    return FormulaBook(formulas, {a: f for a, f in aliases.items() if f in formulas and a not in formulas})


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--kg", type=Path, default=None, help="lex_fengxi_kg folder (default: $TCM_DATA_DIR/text/lex_fengxi_kg)")
    ap.add_argument("--out", type=Path, default=None, help="output JSON (default: resources/formulas/compositions.json)")
    args = ap.parse_args(argv)
    kg = args.kg or data_dir() / "text" / "lex_fengxi_kg"
    src = kg / "relations_fangji.json"
    if not src.is_file():
        print(f"error: {src} not found (set TCM_DATA_DIR or pass --kg)", file=sys.stderr)
        return 1
    normalizer = Normalizer.from_resources(models_dir() / "ner" / "normalization.json")
    book = build_book(json.loads(src.read_text(encoding="utf-8")), normalizer)
    out = args.out or resources_dir() / RESOURCE
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(book.to_json(), ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    n_var = sum(len(v) for v in book.formulas.values())
    print(f"{len(book)} formulas, {n_var} compositions, {len(book.aliases)} aliases -> {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
