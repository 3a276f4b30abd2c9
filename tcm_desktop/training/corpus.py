"""Convert the shared annotated corpora into one 23-category JSON-lines corpus.

    python -m tcm_desktop.training.corpus build --out DIR

writes ``DIR/<source>/<split>.jsonl`` (one record per line: ``id``, ``text``,
``entities``, ``annotated``, and ``unknown``: character ranges whose label is
unknown because a span there was left out of training) and ``DIR/stats.json``
with record, character and entity counts and what every mapping rule did.

``annotated`` lists the categories a source annotates exhaustively; entities of
other categories (produced by a refinement rule) are positive-only evidence.
The mapping table is documented in ``docs/data.md``.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from tcm_desktop.annotation import Entity, Record, validate_record
from tcm_desktop.config import data_dir
from tcm_desktop.schema import LABELS, SPAN_EDGE_FORBIDDEN
from tcm_desktop.text.lexicon import Lexicon
from tcm_desktop.training import team_records
from tcm_desktop.training.lexicon_build import build_lexicon


@dataclass
class Converted:
    """A record plus the ranges the model must treat as unknown."""

    record: Record
    unknown: list[tuple[int, int]] = field(default_factory=list)

    def to_dict(self) -> dict:
        d = self.record.to_dict()
        d["unknown"] = [list(u) for u in self.unknown]
        return d


def split_of(key: str, dev: int, test: int = 0) -> str:
    """Deterministic split from a stable key: ``test``% test, ``dev``% dev."""
    h = team_records.stable_bucket(key, 100)
    if h < test:
        return "test"
    if h < test + dev:
        return "dev"
    return "train"


# --------------------------------------------------------------- refinement


_PULSE = re.compile(r"脉")
_COATING_START = re.compile(r"^(苔|少苔|无苔|舌苔)")
_TONGUE_START = re.compile(r"^(舌|边有齿痕|齿痕|舌体|舌质|舌边|舌尖|舌下)")
_WM_DRUG_SUFFIX = re.compile(r"(霉素|西林|沙星|他汀|洛尔|地平|普利|沙坦|替丁|拉唑|胰岛素|激素|钠|钾|钙|注射液|注射剂|片剂|缓释片|肠溶片|阿司匹林|布洛芬|对乙酰氨基酚|双胍|格列)")
_FORMULA_SUFFIX = re.compile(r"(汤|散|饮|煎|方|丸|丹|膏)$")


class Refiner:
    """Lexicon- and pattern-based rules that split lumped source labels.

    Every rule counts how many spans it touched, so ``docs/data.md`` can say.
    """

    def __init__(self, lexicon: Lexicon) -> None:
        self.lex = lexicon
        self.counts: Counter = Counter()

    def _in(self, text: str, cat: str) -> bool:
        return text in self.lex.terms(cat)

    def finding(self, text: str, start: int, source_rule: str) -> list[tuple[int, int, str]] | None:
        """A 临床表现/SYM span: tongue, coating or pulse findings get their own code.

        ``舌红苔黄`` is split at 苔 into TONGUE + COATING. Returns None when the
        span is not a tongue/pulse finding.
        """
        if _PULSE.search(text) and not text.startswith(("舌", "苔")):
            self.counts[f"{source_rule} -> PULSE"] += 1
            return [(start, start + len(text), "PULSE")]
        if _COATING_START.match(text):
            if "脉" in text:
                return None
            self.counts[f"{source_rule} -> COATING"] += 1
            return [(start, start + len(text), "COATING")]
        if _TONGUE_START.match(text):
            cut = text.find("苔", 1)
            if cut > 0 and "脉" not in text:
                tongue = text[:cut].rstrip("，,、 ")
                self.counts[f"{source_rule} -> TONGUE + COATING (split at 苔)"] += 1
                out = []
                if tongue:
                    out.append((start, start + len(tongue), "TONGUE"))
                out.append((start + cut, start + len(text), "COATING"))
                return out
            if "脉" in text:
                return None
            self.counts[f"{source_rule} -> TONGUE"] += 1
            return [(start, start + len(text), "TONGUE")]
        return None

    def disease(self, text: str, rule: str) -> str | None:
        """A lumped DISEASE span: TCM or Western by the lexicons, else None."""
        if self._in(text, "TCM_DISEASE") and not self._in(text, "WM_DISEASE"):
            self.counts[f"{rule} -> TCM_DISEASE (lexicon)"] += 1
            return "TCM_DISEASE"
        if self._in(text, "WM_DISEASE") or re.search(r"(炎|癌|瘤|综合征|综合症|病毒|感染|增生|结石|囊肿|硬化|衰竭|高血压|糖尿病)$", text):
            self.counts[f"{rule} -> WM_DISEASE (lexicon or suffix)"] += 1
            return "WM_DISEASE"
        self.counts[f"{rule} -> left out (unknown)"] += 1
        return None

    def indication(self, text: str, start: int, rule: str) -> list[tuple[int, int, str]] | None:
        """A 主治 span: finding, syndrome, TCM or Western disease, or symptom."""
        f = self.finding(text, start, rule)
        if f:
            return f
        end = start + len(text)
        if text.endswith("证") or self._in(text, "SYNDROME"):
            self.counts[f"{rule} -> SYNDROME"] += 1
            return [(start, end, "SYNDROME")]
        if self._in(text, "TCM_DISEASE") and not self._in(text, "SYMPTOM"):
            self.counts[f"{rule} -> TCM_DISEASE"] += 1
            return [(start, end, "TCM_DISEASE")]
        if self._in(text, "WM_DISEASE"):
            self.counts[f"{rule} -> WM_DISEASE"] += 1
            return [(start, end, "WM_DISEASE")]
        if self._in(text, "SYMPTOM"):
            self.counts[f"{rule} -> SYMPTOM"] += 1
            return [(start, end, "SYMPTOM")]
        self.counts[f"{rule} -> left out (unknown)"] += 1
        return None


# --------------------------------------------------------------- span tidying


def tidy(text: str, spans: Iterable[tuple[int, int, str]], counts: Counter, source: str) -> tuple[list[Entity], list[tuple[int, int]]]:
    """Trim edge punctuation, drop empty spans, resolve overlaps (longer wins)."""
    trimmed: list[tuple[int, int, str]] = []
    for s, e, lab in spans:
        s0, e0 = s, e
        while s < e and text[s] in SPAN_EDGE_FORBIDDEN:
            s += 1
        while e > s and text[e - 1] in SPAN_EDGE_FORBIDDEN:
            e -= 1
        if (s, e) != (s0, e0):
            counts[f"{source}: span edges trimmed"] += 1
        if s >= e:
            counts[f"{source}: empty span dropped"] += 1
            continue
        trimmed.append((s, e, lab))
    trimmed = sorted(set(trimmed), key=lambda x: (-(x[1] - x[0]), x[0]))
    taken: list[tuple[int, int, str]] = []
    unknown: list[tuple[int, int]] = []
    for s, e, lab in trimmed:
        if any(s < te and ts < e for ts, te, _ in taken):
            counts[f"{source}: overlapping shorter span dropped"] += 1
            continue
        taken.append((s, e, lab))
    taken.sort()
    return [Entity(s, e, lab) for s, e, lab in taken], unknown


# --------------------------------------------------------------- readers


def read_bio(path: Path, sep: str) -> list[tuple[str, list[tuple[int, int, str]]]]:
    """BIO files (one char and tag a line, blank line between sentences)."""
    sents: list[tuple[str, list[tuple[int, int, str]]]] = []
    chars: list[str] = []
    tags: list[str] = []

    def flush() -> None:
        if not chars:
            return
        spans = []
        i = 0
        while i < len(tags):
            if tags[i].startswith("B-") or (tags[i].startswith("I-") and (i == 0 or tags[i - 1][2:] != tags[i][2:])):
                lab = tags[i][2:]
                j = i + 1
                while j < len(tags) and tags[j] == "I-" + lab:
                    j += 1
                spans.append((i, j, lab))
                i = j
            else:
                i += 1
        sents.append(("".join(chars), spans))
        chars.clear()
        tags.clear()

    for line in path.read_text(encoding="utf-8-sig").splitlines():
        if not line.strip():
            flush()
            continue
        if sep == ",":
            ch, _, tag = line.rpartition(",")
        else:
            parts = line.split(" ")
            ch, tag = parts[0], parts[-1]
        if len(ch) != 1:
            ch = ch[:1] or " "
        chars.append(ch)
        tags.append(tag.strip() or "O")
    flush()
    return sents


# --------------------------------------------------------------- sources


JYROY_MAP = {
    "中药": "HERB", "西医诊断": "WM_DISEASE", "中医证候": "SYNDROME", "方剂": "FORMULA",
    "中医治则": "TREATMENT", "中医诊断": "TCM_DISEASE", "其他治疗": "THERAPY",
}
CSHAN_MAP = {"HER": "HERB", "EFF": "EFFICACY"}
CCKS_MAP = {"疾病和诊断": "WM_DISEASE", "解剖部位": "BODY_PART", "手术": "THERAPY", "药物": "WM_DRUG", "影像检查": "EXAM", "实验室检验": "EXAM"}
D1_MAP = {"方剂名": "FORMULA", "组成": "HERB", "功用": "EFFICACY"}
D2_MAP = {"SYMPTOM": "SYMPTOM", "DRUG_EFFICACY": "EFFICACY", "SYNDROME": "SYNDROME", "DRUG_INGREDIENT": "HERB"}
#: Source labels with no counterpart among the 23 codes: their spans are "not
#: an entity" in our schema (O), not unknown.
NOT_IN_SCHEMA = {
    "xuanlai_d1": {"剂型", "运用"},
    "xuanlai_d2": {"PERSON_GROUP", "DRUG_TASTE", "DRUG_DOSAGE", "FOOD_GROUP", "FOOD", "DRUG_GROUP"},
}

ANNOTATED = {
    "jyroy": ["SYMPTOM", "TONGUE", "COATING", "PULSE", "HERB", "WM_DISEASE", "SYNDROME", "FORMULA", "TREATMENT", "TCM_DISEASE", "THERAPY"],
    "cshan": ["SYMPTOM", "TONGUE", "COATING", "PULSE", "HERB", "FORMULA", "PATENT_MEDICINE", "EFFICACY", "CAUSE"],
    "ccks2019": ["WM_DISEASE", "BODY_PART", "THERAPY", "WM_DRUG", "EXAM"],
    "xuanlai_d1": ["FORMULA", "HERB", "EFFICACY"],
    "xuanlai_d2": ["SYMPTOM", "EFFICACY", "SYNDROME", "HERB"],
}


class CorpusBuilder:
    """Runs every converter; keeps counts of what each rule did."""

    def __init__(self, root: Path | None = None) -> None:
        self.root = root or data_dir()
        self.text_dir = self.root / "text"
        self.lexicon, _ = build_lexicon(self.root)
        self.refiner = Refiner(self.lexicon)
        self.counts: Counter = Counter()

    # each converter yields (split, Converted)

    def _finish(self, source: str, rid: str, text: str, spans: list[tuple[int, int, str]], unknown: list[tuple[int, int]]) -> Converted:
        ents, _ = tidy(text, spans, self.counts, source)
        rec = Record(rid, text, ents, ANNOTATED[source])
        validate_record(rec)
        return Converted(rec, sorted(set(unknown)))

    def _finding_spans(self, text: str, s: int, e: int, where: str,
                       fallback_count: str | None = None) -> list[tuple[int, int, str]]:
        """A source's clinical-finding span as the refiner reads it, else the whole span as one SYMPTOM
        (counted under ``fallback_count`` when given)."""
        f = self.refiner.finding(text[s:e], s, where)
        if not f and fallback_count:
            self.refiner.counts[fallback_count] += 1
        return f or [(s, e, "SYMPTOM")]

    def jyroy(self) -> Iterator[tuple[str, Converted]]:
        d = self.text_dir / "jyroy_tcm_ner10"
        train_texts = set()
        for split, fname in (("train", "medical.train"), ("dev", "medical.dev"), ("test", "medical.test")):
            for i, (text, spans) in enumerate(read_bio(d / fname, " ")):
                if split == "train":
                    train_texts.add(text)
                elif text in train_texts:
                    self.counts[f"jyroy: {split} sentence also in train dropped"] += 1
                    continue
                out, unknown = [], []
                for s, e, lab in spans:
                    span = text[s:e]
                    if lab == "临床表现":
                        out += self._finding_spans(text, s, e, "jyroy 临床表现", "jyroy 临床表现 -> SYMPTOM")
                    elif lab in JYROY_MAP:
                        out.append((s, e, JYROY_MAP[lab]))
                    elif lab in ("中医治疗", "西医治疗"):
                        cat = self._treatment_span(span, lab)
                        if cat:
                            out.append((s, e, cat))
                        else:
                            unknown.append((s, e))
                    else:
                        unknown.append((s, e))
                        self.counts[f"jyroy: unknown label {lab} left out"] += 1
                yield split, self._finish("jyroy", f"jyroy-{split}-{i}", text, out, unknown)

    def _treatment_span(self, span: str, lab: str) -> str | None:
        r = self.refiner
        if lab == "西医治疗":
            if r._in(span, "WM_DRUG") or _WM_DRUG_SUFFIX.search(span):
                r.counts["jyroy 西医治疗 -> WM_DRUG"] += 1
                return "WM_DRUG"
            r.counts["jyroy 西医治疗 -> left out (unknown)"] += 1
            return None
        if r._in(span, "FORMULA"):
            r.counts["jyroy 中医治疗 -> FORMULA (lexicon)"] += 1
            return "FORMULA"
        if r._in(span, "PATENT_MEDICINE") or re.search(r"(胶囊|颗粒|口服液|滴丸|片|注射液|贴)$", span):
            r.counts["jyroy 中医治疗 -> PATENT_MEDICINE"] += 1
            return "PATENT_MEDICINE"
        if re.search(r"(针|灸|推拿|按摩|拔罐|刮痧|贴敷|熏|埋线|耳穴|导引|敷)", span):
            r.counts["jyroy 中医治疗 -> THERAPY"] += 1
            return "THERAPY"
        if _FORMULA_SUFFIX.search(span):
            r.counts["jyroy 中医治疗 -> FORMULA (suffix)"] += 1
            return "FORMULA"
        r.counts["jyroy 中医治疗 -> left out (unknown)"] += 1
        return None

    def cshan(self) -> Iterator[tuple[str, Converted]]:
        d = self.text_dir / "cshan_tcmner"
        train = read_bio(d / "train.txt", ",")
        train_texts = {t for t, _ in train}
        test = read_bio(d / "test.txt", ",")
        seen_test: set[str] = set()
        items: list[tuple[str, str, list]] = []
        for i, (t, s) in enumerate(train):
            items.append((split_of(f"cshan{t}", dev=10), f"cshan-train-{i}", t, s))  # type: ignore[arg-type]
        for i, (t, s) in enumerate(test):
            if t in train_texts:
                self.counts["cshan: test sentence also in train dropped"] += 1
                continue
            if t in seen_test:
                self.counts["cshan: repeated test sentence dropped"] += 1
                continue
            seen_test.add(t)
            items.append(("test", f"cshan-test-{i}", t, s))  # type: ignore[arg-type]
        for split, rid, text, spans in items:  # type: ignore[misc]
            out, unknown = [], []
            for s, e, lab in spans:
                span = text[s:e]
                if lab == "SYM":
                    out += self._finding_spans(text, s, e, "cshan SYM")
                elif lab == "CAU":
                    f = self.refiner.finding(span, s, "cshan CAU")
                    if f:
                        out += f
                    elif span.endswith("证") or self.refiner._in(span, "SYNDROME"):
                        self.refiner.counts["cshan CAU -> SYNDROME"] += 1
                        out.append((s, e, "SYNDROME"))
                    else:
                        self.refiner.counts["cshan CAU -> CAUSE"] += 1
                        out.append((s, e, "CAUSE"))
                elif lab == "PRE":
                    if self.refiner._in(span, "HERB") and not self.refiner._in(span, "FORMULA"):
                        self.refiner.counts["cshan PRE -> HERB (a single herb)"] += 1
                        out.append((s, e, "HERB"))
                    elif re.search(r"(汤|饮|煎|散|方)$", span) or self.refiner._in(span, "FORMULA"):
                        self.refiner.counts["cshan PRE -> FORMULA"] += 1
                        out.append((s, e, "FORMULA"))
                    else:
                        self.refiner.counts["cshan PRE -> PATENT_MEDICINE"] += 1
                        out.append((s, e, "PATENT_MEDICINE"))
                elif lab in CSHAN_MAP:
                    out.append((s, e, CSHAN_MAP[lab]))
                else:
                    unknown.append((s, e))
            yield split, self._finish("cshan", rid, text, out, unknown)

    def ccks2019(self) -> Iterator[tuple[str, Converted]]:
        d = self.text_dir / "ccks2019_yidu_s4k"
        docs: list[tuple[str, str, dict]] = []
        for fname in ("subtask1_training_part1.txt", "subtask1_training_part2.txt"):
            for i, line in enumerate((d / fname).read_text(encoding="utf-8-sig").splitlines()):
                if line.strip():
                    obj = json.loads(line)
                    docs.append((split_of("ccks" + obj["originalText"], dev=10), f"ccks2019-{fname[18:23]}-{i}", obj))
        raw = (d / "subtask1_test_set_with_answer.json").read_text(encoding="utf-8-sig")
        train_texts = {o["originalText"] for _, _, o in docs}
        for i, line in enumerate(raw.splitlines()):
            if line.strip():
                obj = json.loads(line)
                if obj["originalText"] in train_texts:
                    self.counts["ccks2019: test document also in train dropped"] += 1
                    continue
                docs.append(("test", f"ccks2019-test-{i}", obj))
        for split, rid, obj in docs:
            text = obj["originalText"]
            spans = []
            for e in obj["entities"]:
                lab = CCKS_MAP.get(e["label_type"])
                if lab:
                    spans.append((e["start_pos"], e["end_pos"], lab))
            yield split, self._finish("ccks2019", rid, text, spans, [])

    def xuanlai_d1(self) -> Iterator[tuple[str, Converted]]:
        rows = json.loads((self.text_dir / "xuanlai_tcm_ner" / "Dataset1" / "dataset1.json").read_text(encoding="utf-8"))
        for row in rows:
            text = row["text"]
            if "label" not in row:
                self.counts["xuanlai_d1: row without annotation dropped"] += 1
                continue
            out, unknown = [], []
            for lab in row["label"]:
                name = lab["labels"][0]
                s, e = lab["start"], lab["end"]
                if text[s:e] != lab["text"]:
                    self.counts["xuanlai_d1: span text mismatch dropped"] += 1
                    continue
                if name in D1_MAP:
                    out.append((s, e, D1_MAP[name]))
                elif name == "主治":
                    r = self.refiner.indication(text[s:e], s, "xuanlai_d1 主治")
                    if r:
                        out += r
                    else:
                        unknown.append((s, e))
                elif name in NOT_IN_SCHEMA["xuanlai_d1"]:
                    self.counts[f"xuanlai_d1: {name} not in schema (O)"] += 1
                else:
                    self.counts[f"xuanlai_d1: {name} left out"] += 1
                    unknown.append((s, e))
            split = split_of(f"d1-{row['id']}", dev=10, test=10)
            yield split, self._finish("xuanlai_d1", f"xuanlai_d1-{row['id']}", text, out, unknown)

    def xuanlai_d2(self) -> Iterator[tuple[str, Converted]]:
        base = self.text_dir / "xuanlai_tcm_ner" / "Dataset2"
        rows = json.loads((base / "dataset2.json").read_text(encoding="utf-8"))
        dev_ids = {r["id"] for r in json.loads((base / "dev.utf8.json").read_text(encoding="utf-8"))}
        for row in rows:
            if row.get("pseudo"):
                self.counts["xuanlai_d2: pseudo-labelled document dropped"] += 1
                continue
            text = row["text"]
            out, unknown = [], []
            for _, name, s, e, span in row["labels"]:
                if text[s:e] != span:
                    self.counts["xuanlai_d2: span text mismatch dropped"] += 1
                    continue
                if name in D2_MAP:
                    if name == "SYMPTOM":
                        f = self.refiner.finding(span, s, "xuanlai_d2 SYMPTOM")
                        out += f or [(s, e, "SYMPTOM")]
                    else:
                        out.append((s, e, D2_MAP[name]))
                elif name in ("DISEASE", "DISEASE_GROUP"):
                    lab = self.refiner.disease(span, f"xuanlai_d2 {name}")
                    if lab:
                        out.append((s, e, lab))
                    else:
                        unknown.append((s, e))
                elif name == "DRUG":
                    if self.refiner._in(span, "WM_DRUG") or _WM_DRUG_SUFFIX.search(span):
                        self.refiner.counts["xuanlai_d2 DRUG -> WM_DRUG"] += 1
                        out.append((s, e, "WM_DRUG"))
                    else:
                        self.refiner.counts["xuanlai_d2 DRUG -> PATENT_MEDICINE"] += 1
                        out.append((s, e, "PATENT_MEDICINE"))
                elif name in NOT_IN_SCHEMA["xuanlai_d2"]:
                    self.counts[f"xuanlai_d2: {name} not in schema (O)"] += 1
                else:
                    self.counts[f"xuanlai_d2: {name} left out"] += 1
                    unknown.append((s, e))
            split = "dev" if row["id"] in dev_ids else split_of(f"d2-{row['id']}", dev=0, test=15)
            yield split, self._finish("xuanlai_d2", f"xuanlai_d2-{row['id']}", text, out, unknown)

    def team(self) -> Iterator[tuple[str, Converted]]:
        for split, records in team_records.load_splits().items():
            for r in records:
                validate_record(r)
                yield split, Converted(r)

    SOURCES: dict[str, str] = {
        "jyroy": "jyroy", "cshan": "cshan", "ccks2019": "ccks2019",
        "xuanlai_d1": "xuanlai_d1", "xuanlai_d2": "xuanlai_d2", "team": "team",
    }

    def build(self, out: Path, sources: Iterable[str] | None = None) -> dict:
        stats: dict = {"sources": {}, "rules": {}, "tidy": {}}
        for name in sources or self.SOURCES:
            gen: Callable[[], Iterator[tuple[str, Converted]]] = getattr(self, name)
            by_split: dict[str, list[Converted]] = defaultdict(list)
            for split, conv in gen():
                by_split[split].append(conv)
            (out / name).mkdir(parents=True, exist_ok=True)
            stats["sources"][name] = {}
            for split in ("train", "dev", "test"):
                items = by_split.get(split, [])
                with open(out / name / f"{split}.jsonl", "w", encoding="utf-8") as f:
                    for c in items:
                        f.write(json.dumps(c.to_dict(), ensure_ascii=False) + "\n")
                per_cat = Counter(e.label for c in items for e in c.record.entities)
                stats["sources"][name][split] = {
                    "records": len(items),
                    "characters": sum(len(c.record.text) for c in items),
                    "entities": {k: per_cat[k] for k in LABELS if per_cat[k]},
                    "unknown_ranges": sum(len(c.unknown) for c in items),
                }
        stats["rules"] = dict(sorted(self.refiner.counts.items()))
        stats["tidy"] = dict(sorted(self.counts.items()))
        stats["annotated"] = {**ANNOTATED, "team": list(LABELS)}
        (out / "stats.json").write_text(json.dumps(stats, ensure_ascii=False, indent=1), encoding="utf-8")
        return stats


def stats_markdown(stats: dict) -> str:
    """The stats tables for ``docs/data.md`` (records, characters, entities, rules)."""
    lines = ["| source | split | records | characters | entities | unknown ranges |", "|---|---|---:|---:|---:|---:|"]
    for name, splits in stats["sources"].items():
        for split, v in splits.items():
            lines.append(f"| {name} | {split} | {v['records']} | {v['characters']} | {sum(v['entities'].values())} | {v['unknown_ranges']} |")
    lines += ["", "Entities per category (all splits):", ""]
    names = list(stats["sources"])
    lines.append("| category | " + " | ".join(names) + " |")
    lines.append("|---|" + "---:|" * len(names))
    for lab in LABELS:
        row = []
        for name in names:
            n = sum(v["entities"].get(lab, 0) for v in stats["sources"][name].values())
            mark = "" if lab in stats["annotated"][name] else "*"
            row.append(f"{n}{mark}" if n or not mark else "–")
        lines.append(f"| {lab} | " + " | ".join(row) + " |")
    lines += ["", "`*`: positive-only (the source does not annotate this category exhaustively; "
              "elsewhere in its text the category is unknown, not O). `–`: none.", "",
              "What each refinement rule did (spans):", "", "| rule | spans |", "|---|---:|"]
    lines += [f"| {k} | {v} |" for k, v in stats["rules"].items()]
    lines += ["", "Span tidying and dropped material:", "", "| what | count |", "|---|---:|"]
    lines += [f"| {k} | {v} |" for k, v in stats["tidy"].items()]
    return "\n".join(lines) + "\n"


def update_docs(doc: Path, markdown: str) -> None:
    """Replace the generated block between the stats markers in ``doc``."""
    begin, end = "<!-- stats:begin -->", "<!-- stats:end -->"
    text = doc.read_text(encoding="utf-8")
    head, _, rest = text.partition(begin)
    _, _, tail = rest.partition(end)
    doc.write_text(f"{head}{begin}\n{markdown}{end}{tail}", encoding="utf-8")


def load_split(corpus_dir: Path, source: str, split: str) -> list[dict]:
    path = Path(corpus_dir) / source / f"{split}.jsonl"
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    b = sub.add_parser("build", help="convert every corpus into DIR/<source>/<split>.jsonl")
    b.add_argument("--out", type=Path, required=True)
    b.add_argument("--source", action="append", help="only these sources (repeatable)")
    b.add_argument("--docs", type=Path, help="also rewrite the stats block of this markdown file (docs/data.md)")
    args = ap.parse_args(argv)
    stats = CorpusBuilder().build(args.out, args.source)
    md = stats_markdown(stats)
    (args.out / "stats.md").write_text(md, encoding="utf-8")
    if args.docs:
        update_docs(args.docs, md)
    for name, splits in stats["sources"].items():
        print(name, {s: v["records"] for s, v in splits.items()})
    return 0


if __name__ == "__main__":
    sys.exit(main())
