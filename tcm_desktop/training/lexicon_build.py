"""Build the per-category term lists the text model uses as features.

Sources: the shared public lexicons (``$TCM_DATA_DIR/text/lex_*``,
``tcm_sd_sample``) and the team's own lists in ``resources/lexicon``. Cleaning
rules (documented in ``docs/data.md``):

1. strip whitespace; drop comment/header lines, terms of one character, terms
   with whitespace or ASCII punctuation, and the generic words in ``STOPWORDS``;
2. syndromes and TCM diseases also get their short form (``气阴两虚证`` ->
   ``气阴两虚``, ``不寐病`` -> ``不寐``) when the short form has 2+ characters;
3. a term listed in several categories keeps only the first category of
   ``PRIORITY``, except the SYMPTOM/TCM_DISEASE pair (``咳嗽``, ``眩晕``), which
   context decides and which stays in both;
4. ``TCM_WORD`` (an untyped TCM vocabulary) is a boundary hint only and may
   overlap any category.

The result is written into the model artifact (``models/ner/lexicon.json``);
raw copies of the shared files are never committed.
"""

from __future__ import annotations

import csv
import json
import re
from collections import Counter
from pathlib import Path

from tcm_desktop.config import REPO_ROOT, data_dir
from tcm_desktop.text.lexicon import Lexicon

TEAM_DIR = REPO_ROOT / "resources" / "lexicon"

PRIORITY = (
    "FORMULA", "PATENT_MEDICINE", "ACUPOINT", "HERB", "WM_DRUG", "SYNDROME", "TCM_DISEASE",
    "WM_DISEASE", "TONGUE", "COATING", "PULSE", "SIGN", "SYMPTOM", "TREATMENT", "THERAPY",
    "EXAM", "USAGE", "CAUSE", "TIME", "BODY_PART",
)
BOTH_KEPT = {frozenset({"SYMPTOM", "TCM_DISEASE"})}
STOPWORDS = frozenset(
    "其他 其它 其他治法 一度 二度 三度 一期 二期 三期 不以多少 正常 患者 治疗 方法 疾病 症状 中药 西药 "
    "检查 诊断 辨证 治法 处方 用法 用量 功效 主治 部位 病因 时间 上下肢".split()
)
_BAD = re.compile(r"[\s,.;:!?'\"()\[\]{}<>/\\|#=+*~`^$%&@_，。；：、（）？！“”]")


def _lines(path: Path) -> list[str]:
    if not path.exists():
        return []
    out = []
    for raw in path.read_text(encoding="utf-8-sig", errors="replace").splitlines():
        s = raw.strip()
        if not s or s.startswith("#") or s.startswith("---"):
            continue
        out.append(s)
    return out


def _split_synonyms(lines: list[str]) -> list[str]:
    return [t.strip() for line in lines for t in line.split(",")]


def _short_forms(terms: set[str], suffix: str) -> set[str]:
    return {t[: -len(suffix)] for t in terms if t.endswith(suffix) and len(t) - len(suffix) >= 2}


def shared_terms(root: Path | None = None) -> dict[str, set[str]]:
    """Raw per-category terms from the shared lexicons."""
    t = (root or data_dir()) / "text"
    lf, to, fx, rc, tb, sd = (t / n for n in (
        "lex_lifafangyao", "lex_tch_ontology", "lex_fengxi_kg", "lex_rime_clinic",
        "lex_tcm_tbosd_official_readme", "tcm_sd_sample"))
    norm_map: list[str] = []
    if (sd / "syndrome_norm_map.utf8.csv").exists():
        with open(sd / "syndrome_norm_map.utf8.csv", encoding="utf-8-sig") as f:
            for row in csv.reader(f):
                if len(row) >= 3 and row[2] in ("KEEP", "MERGE"):
                    norm_map += [row[0], row[1]]
    terms = {
        "SYMPTOM": _lines(lf / "symptom_names.txt") + _lines(to / "symptom_names.txt"),
        "SYNDROME": _lines(lf / "syndrome_names.txt") + _lines(to / "pattern_names.txt")
        + _split_synonyms(_lines(to / "pattern_synonyms.txt")) + _lines(sd / "syndrome_vocab.txt")
        + _lines(tb / "syndromes_10.txt") + norm_map,
        "TCM_DISEASE": _lines(lf / "disease_names.txt") + _lines(to / "disease_names.txt")
        + _split_synonyms(_lines(to / "disease_synonyms.txt")) + _lines(tb / "diseases_4.txt"),
        "TREATMENT": _lines(lf / "therapy_names.txt") + _lines(to / "method_names.txt")
        + _split_synonyms(_lines(to / "method_synonyms.txt")) + _lines(to / "principle_names.txt"),
        "FORMULA": _lines(lf / "formulae_names.txt") + _lines(fx / "formula_names.txt") + _lines(rc / "cn_tcm_formula.txt"),
        "HERB": _lines(lf / "herbs_names.txt") + _lines(lf / "herbs_aliases.txt") + _lines(to / "herb_names.txt")
        + _lines(fx / "herb_names.txt") + _lines(tb / "herbs_candidates.txt"),
        "PATENT_MEDICINE": _lines(rc / "cn_tcm_patent.txt"),
        "ACUPOINT": _lines(rc / "cn_tcm_acupuncture.txt"),
        "BODY_PART": _lines(rc / "cn_anatomy.txt"),
        "TCM_WORD": _lines(rc / "cn_tcm_dedulplicate.txt"),
    }
    return {k: set(v) for k, v in terms.items()}


def team_terms(team_dir: Path = TEAM_DIR) -> dict[str, set[str]]:
    """The team's own lists: ``CODE.txt`` files and the alias tables."""
    out: dict[str, set[str]] = {}
    for path in sorted(team_dir.glob("*.txt")):
        out.setdefault(path.stem, set()).update(_lines(path))
    for name, cat in (("HERB_ALIASES.tsv", "HERB"), ("SYNDROME_SYNONYMS.tsv", "SYNDROME")):
        for line in _lines(team_dir / name):
            cols = line.split("\t")
            out.setdefault(cat, set()).update(c for c in cols[:2] if c)
    return out


def herb_aliases(team_dir: Path = TEAM_DIR) -> dict[str, tuple[str, str]]:
    """written form -> (canonical herb, processing) from the team's alias table."""
    table: dict[str, tuple[str, str]] = {}
    for line in _lines(team_dir / "HERB_ALIASES.tsv"):
        cols = line.split("\t") + ["", ""]
        if cols[0] and cols[1]:
            table[cols[0]] = (cols[1], cols[2].strip())
    return table


def syndrome_synonyms(root: Path | None = None, team_dir: Path = TEAM_DIR) -> dict[str, str]:
    """written syndrome -> standard name (TCM-SD map and the team's table)."""
    table: dict[str, str] = {}
    sd = (root or data_dir()) / "text" / "tcm_sd_sample" / "syndrome_norm_map.utf8.csv"
    if sd.exists():
        with open(sd, encoding="utf-8-sig") as f:
            for row in csv.reader(f):
                if len(row) >= 3 and row[2] in ("KEEP", "MERGE") and row[1] and row[1] != "NULL":
                    table[row[0]] = row[1]
    for line in _lines(team_dir / "SYNDROME_SYNONYMS.tsv"):
        cols = line.split("\t")
        if len(cols) >= 2 and cols[0] and cols[1]:
            table[cols[0]] = cols[1]
    return table


def clean(raw: dict[str, set[str]]) -> tuple[dict[str, set[str]], Counter]:
    """Apply the cleaning rules; return the lists and what each rule removed."""
    report: Counter = Counter()
    cleaned: dict[str, set[str]] = {}
    for cat, terms in raw.items():
        keep = set()
        for t in terms:
            t = t.strip()
            if len(t) < 2:
                report["dropped: single character"] += 1
            elif _BAD.search(t) and cat not in ("EXAM", "USAGE", "WM_DRUG", "WM_DISEASE"):
                report["dropped: whitespace or punctuation"] += 1
            elif t in STOPWORDS:
                report["dropped: generic word"] += 1
            else:
                keep.add(t)
        cleaned[cat] = keep
    for cat, suffix in (("SYNDROME", "证"), ("TCM_DISEASE", "病")):
        extra = _short_forms(cleaned.get(cat, set()), suffix) - cleaned.get(cat, set())
        report[f"added: short forms of {cat}"] += len(extra)
        cleaned.setdefault(cat, set()).update(extra)
    owner: dict[str, str] = {}
    for cat in PRIORITY:
        for t in sorted(cleaned.get(cat, ())):
            first = owner.get(t)
            if first is None:
                owner[t] = cat
            elif frozenset({first, cat}) in BOTH_KEPT:
                report["kept in both SYMPTOM and TCM_DISEASE"] += 1
            else:
                cleaned[cat].discard(t)
                report[f"moved: {cat} term already in {first}"] += 1
    return cleaned, report


def build_lexicon(root: Path | None = None, team_dir: Path = TEAM_DIR) -> tuple[Lexicon, Counter]:
    raw = shared_terms(root)
    for cat, terms in team_terms(team_dir).items():
        raw.setdefault(cat, set()).update(terms)
    cleaned, report = clean(raw)
    order = [c for c in PRIORITY if cleaned.get(c)] + (["TCM_WORD"] if cleaned.get("TCM_WORD") else [])
    return Lexicon({c: cleaned[c] for c in order}), report


def main() -> None:
    lex, report = build_lexicon()
    print(json.dumps({c: len(lex.terms(c)) for c in lex.categories}, ensure_ascii=False, indent=1))
    print(json.dumps(dict(report), ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
