"""ConText-style assertion rules for Chinese clinical text.

The model finds spans; whether a finding is denied (``无发热``), uncertain
(``考虑冠心病可能``), past (``既往高血压病史``) or a relative's (``母亲有糖尿病史``)
is decided here from cue words around the span, the record's sections and the
category. Every decision is per entity; :func:`assign_assertions` sets
``FoundEntity.assertion``.

Scope (how far a cue reaches)
-----------------------------
A *pre* cue stands before the entity, a *post* cue after it. Scope never crosses
a sentence end ``。；;！!？?`` or a line break, nor a turn word (但, 但是, 仍,
现, 今, 目前, 刻下, 而, 却 …). Inside the sentence it depends on the cue:

- negation (无, 否认, 未见, 未闻及 …) reaches the entity only when what stands
  between is other entities, list joiners (、 及 和 或 与) and filler words
  (明显, 任何, 其他 …): ``无恶寒、发热`` negates both, ``无明显诱因出现咳嗽``
  negates nothing. A comma ends negation: ``纳可，无反酸，偶有嗳气`` leaves
  嗳气 present (the team records write ``无A，无B`` when both are denied).
  ``不`` negates only the very next entity (``不伴``/``不考虑`` are full cues).
- uncertainty: pre cues (疑似, 考虑, 待排, 不除外, 有无, 警惕 …) reach over at
  most a short gap; post cues (可能, 待排, 待查, 不除外, 风险) must follow the
  entity or a 、-joined list ending with it (``考虑A、B可能``); ``？`` only right
  after the entity. Bare ``排除X`` is possible in a plan sentence (复查/完善 …
  排除X) and absent in a finding (CT…，排除X). A numbered list marker
  (``4.``) ends every scope, so ``4.A待排　5.B`` leaves B present.
- resolution words: 已除/已止/已无/消失 after a symptom make it absent; 消退 and
  基本消失 do not (the team annotates partial resolution as present).
- history: pre cues (既往, 曾患, 曾因 …) reach to the end of the clause (the
  next comma); ``…史``/``…病史`` right after the entity (list allowed) is a post
  cue, ignored in diagnosis sections where ``高血压病史10年`` still names the
  current diagnosis.
- family: a relative (父亲, 母亲, 兄, 姐 …, 家族中) reaches to the end of the
  clause; inside a 家族史 section it reaches to the end of the sentence, and
  diseases there are family even without a cue.

Sections: in 既往史 diseases and procedures are history by default, in 家族史
diseases and symptoms are family by default (not tongue/pulse/signs: those
are the patient's exam when a heading such as 查： is missing).

Categories
----------
Negation, uncertainty and family apply to finding-like categories (SYMPTOM,
SIGN, TONGUE, COATING, PULSE, TCM_DISEASE, SYNDROME, WM_DISEASE, CAUSE,
EXAM_RESULT). EXAM_RESULT keeps ``阴性``/``(-)`` as its value (present), but
``未见胎盘残留`` is absent. Drugs, herbs and formulas get history only from
drug-history cues (曾服, 既往服用, 停用, 停X, 对X过敏 — the team files drug
allergies as history) and absent only from explicit drug-negation cues (未服,
未用, 暂不用); CAUSE gets history only from a quit habit (``吸烟…已戒``);
procedures (THERAPY) get history from 曾行/已行/
``…前行``/``…术后`` and absent from 未行/未予. Everything else stays present.

Precedence
----------
absent > family > possible > history. The brief proposed family > absent, but
a negated family statement means no relative has it (``否认肾病家族史``,
``家族中无类似疾病``), and the team annotates those absent, so a negation cue
that reaches the entity wins. ``否认…史`` is therefore absent, not history.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

import ahocorasick

from tcm_desktop.structured import FoundEntity, Section
from tcm_desktop.text.sections import find_sections

FINDINGS = frozenset({
    "SYMPTOM", "SIGN", "TONGUE", "COATING", "PULSE", "TCM_DISEASE", "SYNDROME", "WM_DISEASE",
    "CAUSE", "EXAM_RESULT",
})
DISEASES = frozenset({"WM_DISEASE", "TCM_DISEASE", "SYNDROME"})
DRUGS = frozenset({"WM_DRUG", "PATENT_MEDICINE", "HERB", "FORMULA"})
PROCEDURES = frozenset({"THERAPY"})
#: Entities of these categories may stand between a cue and the entity it reaches.
TRANSPARENT = FINDINGS | DRUGS | PROCEDURES | {"BODY_PART", "TIME", "DOSAGE", "USAGE", "EXAM"}
DIAGNOSIS_SECTIONS = frozenset({"diagnosis", "tcm_diagnosis", "wm_diagnosis"})

SENTENCE_END = "。；;！!？?\n"
CLAUSE_END = SENTENCE_END + "，,"
#: Post cues may reach over a question mark (``冠心病？待排``).
POST_END = SENTENCE_END.replace("？", "").replace("?", "")
TURN_WORDS = ("但是", "但", "然而", "仍", "目前", "刻下", "现", "今", "而", "却", "则")
#: ``现`` inside these words is no turn word.
TURN_EXCEPTIONS = ("出现", "表现", "发现", "体现", "现病史", "至今", "如今")

NEG_PRE = (
    "否认", "未见", "未诉", "未闻及", "未触及", "未扪及", "未及", "未引出", "未发现", "未出现",
    "未遗留", "未再", "不伴", "不伴有", "没有", "无", "未", "不考虑", "已排除", "可排除",
    "故排除", "排除了", "除外了", "并非", "非", "未找到", "未检出", "未查见", "未曾发作", "未发作", "未曾",
    "不支持",
)
NEG_PRE_ADJACENT = ("不",)  # only directly before the entity
NEG_POST = (
    "不显", "不明显", "已消失", "消失", "已除", "已止", "已无", "已退", "已愈", "已去",
    "未作", "未再发作", "未再", "未发作", "未见", "未及", "未触及", "（-）", "(-)", "阴性",
    "不支持", "已排除", "已除外", "可排除", "暂不考虑", "不考虑",
)
NEG_POST_NOT_FOR_RESULTS = ("阴性", "（-）", "(-)")
NEG_POST_FOR_RESULTS = tuple(c for c in NEG_POST if c not in NEG_POST_NOT_FOR_RESULTS)
POSS_PRE = (
    "疑似", "疑为", "疑诊", "怀疑", "可疑", "不除外", "不排除", "不能排除", "待排除", "待排", "待查",
    "可能为", "可能是", "有无", "是否", "以排除", "需排除", "除外", "考虑", "警惕", "排查",
    "可能引起", "可能出现",
)
POSS_POST = (
    "可能性大", "可能", "待排除", "待排", "待查", "待除外", "不除外", "不排除", "可疑", "待鉴别", "风险",
)
#: A diagnosis still to be settled: ``尘肺待职业病鉴定``, ``卒中后抑郁待评估``, ``偏头痛不能除外``,
#: ``抑郁发作（中度）可能``, ``高血压肾损害早期可能``.
POSS_POST_PATTERN = re.compile(
    r"^\s*(?:[（(][^）)]{0,8}[）)])?\s*(?:早期)?(?:"
    r"待[^，,。；;\n]{0,8}?(?:评估|鉴定|证实|检测|排除|除外|观察|随访|确诊|明确|活检)"
    r"|需[^，,。；;\n]{0,6}?(?:筛查|评估|排除|除外)"
    r"|尚?不能(?:完全)?(?:排除|除外)|可能)"
)
#: Question marks mark a diagnosis as uncertain only right after it (``冠心病？``).
POSS_POST_ADJACENT = ("？", "?")
#: Bare 排除 is possible in a plan (复查…排除…), absent in a finding (CT…排除…).
PLAN_WORDS = ("完善", "复查", "建议", "进一步", "动态", "监测", "必要时", "待回报", "待回")
HIST_PRE = (
    "既往有", "既往", "曾患", "曾行", "曾因", "曾于", "曾诊断", "曾在", "曾经", "曾有", "多年前", "幼时",
    "儿时", "曾",
)
HIST_PRE_PATTERNS = (re.compile(r"[年月周天]前(?:曾)?[患因]"),)
#: A numbered list item (``4.急性肾损伤待排　5.高钠血症``) ends every cue's scope.
_LIST_MARK = re.compile(r"\d{1,2}[.．、](?!\d)|[①-⑳]")
HIST_POST = ("病史", "史")
DRUG_HIST_PRE = (
    "曾服用", "曾口服", "曾服", "曾用", "曾使用", "曾予", "曾给予", "曾长期", "既往服用", "既往口服",
    "既往使用", "停用", "停服", "已停", "先后服用", "曾外用", "曾外敷", "曾静滴", "曾静脉",
)
DRUG_HIST_PRE_ADJACENT = ("停",)  # 停哌拉西林他唑巴坦
DRUG_HIST_POST = ("已停用", "已停药", "已停", "停用", "停药")
#: A drug allergy is a standing fact of the history, not a current medication.
DRUG_ALLERGY_POST = ("过敏",)
DRUG_NEG_PRE = ("未服用", "未服", "未用", "未使用", "否认服用", "未曾服用")
DRUG_NEG_POST = ("暂不用", "不用")
PROC_HIST_PRE = ("曾行", "已行", "曾接受", "曾做", "术后行", "术后", "末次")
#: ``2023年3月行X术``: a dated procedure in the narrative is over.
PROC_HIST_PATTERNS = (re.compile(r"(?:\d+年|\d+月|\d+日|前|此前|之前)[^，,。；;\n]{0,8}行$"),)
PROC_HIST_ALL = PROC_HIST_PRE + HIST_PRE
PROC_NEG_PRE = ("未行", "未予", "未接受", "未做", "拒绝", "否认", "不宜", "不加", "暂不", "禁行", "禁用")
#: ``[PCI术]后8个月``: a procedure followed by 后 and an elapsed time is over.
PROC_HIST_AFTER = re.compile(r"^\s*后\s*(?:\d+|[一二两三四五六七八九十半数]+)\s*余?\s*个?\s*(?:年|月|周|天|日)")
#: A form's key:value pair whose value denies it (``[发热：无]``, guideline T3) is absent as a whole.
PAIR_ABSENT = re.compile(r"^[^：:]{1,8}[：:]\s*(?:无|没有|否|未|不明显|（-）|\(-\)|-)$")
#: A past injury or event as the cause: ``10年前曾因[外伤]致左胫骨骨折``.
CAUSE_HIST_PRE = ("既往曾因", "曾因")
#: Past habits: ``吸烟30年，每日1包，已戒2年``.
CAUSE_HIST_POST = ("已戒",)
FAMILY_WORDS = (
    "外祖父", "外祖母", "祖父", "祖母", "爷爷", "奶奶", "外公", "外婆", "父亲", "母亲", "父母", "哥哥",
    "弟弟", "姐姐", "妹妹", "兄弟", "姐妹", "儿子", "女儿", "子女", "舅舅", "姑姑", "叔叔", "伯伯",
    "阿姨", "姨妈", "家族中", "亲属", "同胞", "其兄", "其姐", "其弟", "其妹",
    "一兄", "一姐", "一弟", "一妹", "父", "母", "兄", "弟", "姐", "妹", "舅", "姨",
)
FAMILY_POST = ("家族史",)
#: A cue with the character before it that makes it no cue (有无 asks, it does not deny).
PSEUDO_CUES = frozenset({"有无"})

#: Words allowed between a negation cue and the entity it reaches.
_NEG_FILLER = re.compile(
    r"^\s*(?:[、及和或与并以/\x00“”\"'（）()]|明显|显著|明确|任何|其他|其它|特殊|有|出现|发生|伴|伴有|等|"
    r"诸如|类似|的|及其|所谓|过|再|曾|异常的)*$"
)
_POST_FILLER = re.compile(r"^(?:[\s、及和或与并\x00“”\"']|均|亦|已|明显|等|症状|表现|征象|之)*$")
_HIST_POST_FILLER = re.compile(r"^(?:[\s、及和或与\x00“”\"']|等|疾病|病|传染)*$")


@dataclass
class _Ctx:
    """One record's text, its masked copy and sections, with per-sentence caches.

    Sentence bounds come from the sorted positions of the break characters
    (a binary search, not a walk per entity), and each cue list is scanned
    once per sentence: every entity of the sentence reuses those occurrences.
    """

    text: str
    masked: str  # text with transparent entities replaced by \x00
    sections: list[Section]
    _breaks: dict[str, list[int]] = field(default_factory=dict)
    _all: dict[tuple[str, ...], tuple[list[int], list[int]]] = field(default_factory=dict)
    _found: dict[tuple, list[tuple[str, list[int]]]] = field(default_factory=dict)

    def breaks(self, ends: str) -> list[int]:
        b = self._breaks.get(ends)
        if b is None:
            b = self._breaks[ends] = [i for i, c in enumerate(self.text) if c in ends]
        return b

    def sentence_start(self, pos: int, ends: str) -> int:
        """Just after the last break character before ``pos`` (0 if none)."""
        b = self.breaks(ends)
        i = bisect_left(b, pos)
        return b[i - 1] + 1 if i else 0

    def sentence_end(self, pos: int, ends: str) -> int:
        """The first break character at or after ``pos`` (the text's length if none)."""
        b = self.breaks(ends)
        i = bisect_left(b, pos)
        return b[i] if i < len(b) else len(self.text)

    def occurrences(self, cues: tuple[str, ...], a: int, z: int) -> list[tuple[str, list[int]]]:
        """Every start (overlaps included) of every cue in ``masked[a:z]``, per cue in list order.

        The whole masked text is scanned once per cue list (one Aho-Corasick
        pass); each sentence then takes its slice by binary search.
        """
        key = (cues, a, z)
        found = self._found.get(key)
        if found is None:
            every = self._all.get(cues)
            if every is None:
                hits = sorted((end - len(cues[ci]) + 1, ci) for end, ci in _automaton(cues).iter(self.masked))
                every = self._all[cues] = ([h[0] for h in hits], [h[1] for h in hits])
            starts, which = every
            lo, hi = bisect_left(starts, a), bisect_left(starts, z)
            per_cue: dict[int, list[int]] = {}
            for p, ci in zip(starts[lo:hi], which[lo:hi]):
                if p + len(cues[ci]) <= z:
                    per_cue.setdefault(ci, []).append(p)
            found = self._found[key] = [(cues[ci], per_cue[ci]) for ci in sorted(per_cue)]
        return found


@lru_cache(maxsize=64)
def _automaton(cues: tuple[str, ...]) -> ahocorasick.Automaton:
    """An Aho-Corasick automaton over ``cues``; each hit's value is the cue's index in the list."""
    auto = ahocorasick.Automaton()
    for ci, cue in enumerate(cues):
        if cue not in auto:
            auto.add_word(cue, ci)
    auto.make_automaton()
    return auto


@lru_cache(maxsize=64)
def _longest_first(cues: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(sorted(cues, key=len, reverse=True))


def _mask(text: str, entities: Sequence[FoundEntity]) -> str:
    chars = list(text)
    for e in entities:
        if e.label in TRANSPARENT:
            for i in range(max(0, e.start), min(len(text), e.end)):
                chars[i] = "\x00"
    return "".join(chars)


def _has_turn_word(gap: str) -> bool:
    for ex in TURN_EXCEPTIONS:
        gap = gap.replace(ex, "#" * len(ex))
    return any(w in gap for w in TURN_WORDS)


def _pre_cue(ctx: _Ctx, e: FoundEntity, cues: tuple[str, ...], ends: str, filler: re.Pattern | None,
             max_gap: int = 40) -> str | None:
    """The nearest cue before ``e`` within the sentence whose gap passes ``filler``.

    Per cue, occurrences are tried from the last one back, each ending before
    the previous one tried starts (what ``str.rfind`` with a shrinking end does).
    """
    s = ctx.sentence_start(e.start, ends)
    found = ctx.occurrences(cues, s, ctx.sentence_end(s, ends))
    if not found:
        return None
    masked = ctx.masked
    best: tuple[int, str] | None = None
    for cue, starts in found:
        n = len(cue)
        limit = e.start
        for p in reversed(starts):
            if p + n > limit:
                continue
            if (masked[p - 1] + cue if p > s else cue) in PSEUDO_CUES:
                limit = p
                continue
            gap = masked[p + n : e.start]
            ok = len(gap.replace("\x00", "")) <= max_gap and not _has_turn_word(gap) and not _LIST_MARK.search(gap)
            if ok and filler is not None:
                ok = bool(filler.match(gap))
            if ok:
                if best is None or p + n > best[0]:
                    best = (p + n, cue)
                break
            limit = p
    return best[1] if best else None


def _post_cue(ctx: _Ctx, e: FoundEntity, cues: tuple[str, ...], filler: re.Pattern) -> str | None:
    """A cue after ``e`` (possibly after a 、-list of entities) within the sentence, longest cues first."""
    end = ctx.sentence_end(e.end, POST_END)
    a = ctx.sentence_start(end, POST_END)
    for cue, starts in ctx.occurrences(_longest_first(cues), a, min(len(ctx.text), end + 1)):
        for q in starts:
            if q >= e.end and filler.match(ctx.masked[e.end : q]):
                return cue
    return None


def _section_of(sections: Sequence[Section], pos: int) -> str | None:
    for s in sections:
        if s.start <= pos < s.end:
            return s.name
    return None


def _adjacent_before(ctx: _Ctx, e: FoundEntity, cues: Iterable[str]) -> bool:
    return any(ctx.masked[max(0, e.start - len(c)) : e.start] == c for c in cues)


def _adjacent_after(ctx: _Ctx, e: FoundEntity, cues: Iterable[str]) -> bool:
    after = ctx.text[e.end : e.end + 4].lstrip(" \t\u3000")
    return any(after.startswith(c) for c in cues)


def _near_after(ctx: _Ctx, e: FoundEntity, cues: Iterable[str], max_gap: int) -> bool:
    """A cue later in the same sentence, at most ``max_gap`` characters on."""
    window = ctx.text[e.end : ctx.sentence_end(e.end, SENTENCE_END)]
    return any(0 <= window.find(c) <= max_gap for c in cues)


def _is_absent(ctx: _Ctx, e: FoundEntity) -> bool:
    if e.label in FINDINGS:
        if PAIR_ABSENT.match(e.text):
            return True
        if _pre_cue(ctx, e, NEG_PRE, CLAUSE_END, _NEG_FILLER) is not None:
            return True
        if _adjacent_before(ctx, e, NEG_PRE_ADJACENT) or _bare_exclusion(ctx, e) == "absent":
            return True
        post_cues = NEG_POST_FOR_RESULTS if e.label == "EXAM_RESULT" else NEG_POST
        return _post_cue(ctx, e, post_cues, _POST_FILLER) is not None
    if e.label in DRUGS:
        if _pre_cue(ctx, e, DRUG_NEG_PRE, CLAUSE_END, _NEG_FILLER) is not None:
            return True
        return _post_cue(ctx, e, DRUG_NEG_POST, _POST_FILLER) is not None
    if e.label in PROCEDURES:
        return _pre_cue(ctx, e, PROC_NEG_PRE, CLAUSE_END, _NEG_FILLER) is not None
    return False


def _bare_exclusion(ctx: _Ctx, e: FoundEntity) -> str | None:
    """``排除X`` right before the entity: possible in a plan sentence, absent otherwise."""
    if not ctx.masked[: e.start].rstrip("“\"").endswith("排除"):
        return None
    s = ctx.sentence_start(e.start, SENTENCE_END)
    before = ctx.text[s : e.start]
    if any(w in before for w in ("以排除", "需排除", "待排除", "明确")) or any(w in before for w in PLAN_WORDS):
        return "possible"
    return "absent"


def _is_possible(ctx: _Ctx, e: FoundEntity) -> bool:
    if e.label not in FINDINGS:
        return False
    if _pre_cue(ctx, e, POSS_PRE, CLAUSE_END, None, max_gap=6) is not None:
        return True
    if _bare_exclusion(ctx, e) == "possible" or _adjacent_after(ctx, e, POSS_POST_ADJACENT):
        return True
    if e.label in DISEASES and POSS_POST_PATTERN.match(ctx.text[e.end : e.end + 24]):
        return True
    return _post_cue(ctx, e, POSS_POST, _POST_FILLER) is not None


def _is_history(ctx: _Ctx, e: FoundEntity, section: str | None) -> bool:
    if e.label in DRUGS:
        if _pre_cue(ctx, e, DRUG_HIST_PRE, CLAUSE_END, None, max_gap=10) is not None:
            return True
        if _adjacent_before(ctx, e, DRUG_HIST_PRE_ADJACENT) or _adjacent_after(ctx, e, DRUG_ALLERGY_POST):
            return True
        return _near_after(ctx, e, DRUG_HIST_POST, max_gap=12)
    if e.label in PROCEDURES:
        if section == "past_history":
            return True
        if _pre_cue(ctx, e, PROC_HIST_ALL, CLAUSE_END, None, max_gap=12) is not None:
            return True
        s = ctx.sentence_start(e.start, CLAUSE_END)
        if any(p.search(ctx.text[s : e.start]) for p in PROC_HIST_PATTERNS):
            return True
        return e.text.endswith("术后") or bool(PROC_HIST_AFTER.match(ctx.text[e.end : e.end + 12]))
    if e.label == "CAUSE":
        if _pre_cue(ctx, e, CAUSE_HIST_PRE, CLAUSE_END, None, max_gap=2) is not None:
            return True
        return _near_after(ctx, e, CAUSE_HIST_POST, max_gap=20)
    if e.label not in DISEASES | {"SYMPTOM"}:
        return False
    if section == "past_history" and e.label in DISEASES:
        return True
    if _pre_cue(ctx, e, HIST_PRE, CLAUSE_END, None, max_gap=15) is not None:
        return True
    s = ctx.sentence_start(e.start, CLAUSE_END)
    if e.label in DISEASES and any(p.search(ctx.text[s : e.start]) for p in HIST_PRE_PATTERNS):
        return True
    if section not in DIAGNOSIS_SECTIONS and e.label in DISEASES:
        return _post_cue(ctx, e, HIST_POST, _HIST_POST_FILLER) is not None
    return False


def _is_family(ctx: _Ctx, e: FoundEntity, section: str | None) -> bool:
    if e.label not in FINDINGS:
        return False
    if section == "family_history" and e.label in DISEASES | {"SYMPTOM"}:
        return True
    if _pre_cue(ctx, e, FAMILY_WORDS, CLAUSE_END, None, max_gap=15) is not None:
        return True
    return _post_cue(ctx, e, FAMILY_POST, _HIST_POST_FILLER) is not None


def assertion_for(ctx: _Ctx, e: FoundEntity) -> str:
    section = _section_of(ctx.sections, e.start)
    if _is_absent(ctx, e):
        return "absent"
    if _is_family(ctx, e, section):
        return "family"
    if _is_possible(ctx, e):
        return "possible"
    if _is_history(ctx, e, section):
        return "history"
    return "present"


def assign_assertions(
    text: str, entities: list[FoundEntity], sections: Sequence[Section] | None = None
) -> None:
    """Set ``.assertion`` on every entity from cues, sections and category."""
    ctx = _Ctx(text, _mask(text, entities), list(find_sections(text) if sections is None else sections))
    for e in entities:
        e.assertion = assertion_for(ctx, e)


def evaluate_on(records: Iterable) -> dict:
    """Run the rules on gold spans of ``records`` (schema Records) and compare with gold assertions.

    Returns accuracy, per-value precision/recall/support and the confusion
    counts ``{(gold, predicted): n}``.
    """
    confusion: Counter = Counter()
    for r in records:
        ents = [FoundEntity(g.start, g.end, g.label, r.text[g.start : g.end]) for g in r.entities]
        assign_assertions(r.text, ents)
        for g, p in zip(r.entities, ents, strict=True):
            confusion[(g.assertion, p.assertion)] += 1
    total = sum(confusion.values())
    correct = sum(n for (g, p), n in confusion.items() if g == p)
    per_value: dict[str, dict[str, float]] = {}
    for v in ("present", "absent", "possible", "history", "family"):
        tp = confusion[(v, v)]
        pred = sum(n for (g, p), n in confusion.items() if p == v)
        gold = sum(n for (g, p), n in confusion.items() if g == v)
        per_value[v] = {
            "precision": tp / pred if pred else 0.0,
            "recall": tp / gold if gold else 0.0,
            "support": gold,
        }
    return {"accuracy": correct / total if total else 0.0, "n": total, "per_value": per_value,
            "confusion": dict(confusion)}
