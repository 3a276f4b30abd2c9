"""Span conventions the annotation guidelines fix mechanically (S3, S9, S10), for files and for the model alike.

The agreement study (docs/accuracy.md, section 7) showed the team files, train and
test alike, breaking rules S2 and S3 in the same few ways, each of which a
machine can decide without judgement and without a model:

- ``advice``: S3 says advice to avoid something is not annotated, yet
  ``忌[生冷|CAUSE]`` and ``避免[受凉|CAUSE]`` appear: a CAUSE span whose clause
  holds an advice cue before it (忌, 避免, 禁, 戒 but not 已戒, 预防, 注意, 勿, 防止)
  is removed;
- ``cue``: S3 keeps the cue words outside a CAUSE (遇, 每于, 每遇, 每逢, 因, 由于,
  长期); S9 adds the other duration and frequency adverbs of the same kind
  (长时间, 长年, 常年, 连日, 连续, 经常) and S10 the habit words 平素, 好, 爱 (not 爱人).
  A CAUSE span that starts with one of them
  is trimmed to what follows, and so is a duration right after the cue
  (``连续两天泡温泉`` gives ``[泡温泉|CAUSE]``);
- ``night``: S10 says two triggers are two spans, also when written without a
  joining word (``[熬夜|CAUSE][赶稿|CAUSE]``), and time words stay out. A CAUSE
  span that starts with 熬夜 and goes on is cut after it: what follows is a
  second CAUSE (``熬夜直播`` gives ``[熬夜|CAUSE][直播|CAUSE]``), or is left out
  when it only says how late (``熬夜至凌晨`` gives ``[熬夜|CAUSE]``). The team train
  files split it in all 43 such places. Not 通宵, which they split in 8 of 11 and
  which can be the time of one act (``通宵加班``);
- ``site``: S2 says a site written as one phrase with its finding is part of the
  finding's span (``[颈前|BODY_PART][疼痛|SYMPTOM]`` is wrong). A BODY_PART span
  directly followed by a SIGN or SYMPTOM span is fused into it, unless the site
  is shared by several findings (the finding is followed by 、/及/和/并/伴/与 and
  another finding: ``[双手|BODY_PART][皮损肥厚|SIGN]、[皲裂|SIGN]``). Sites joined to it
  by 、/及/和/与 go with it (``[双手指端及足底针刺觉减退|SIGN]``), and so does a degree
  word between site and finding (``[双踝轻度肿胀|SIGN]``);
- ``coordinated``: sites standing on their own and joined by 及/和/、 are one span
  each (``[颈后|BODY_PART]及[腋下|BODY_PART]``), as most of the pool writes them; a
  list of numbers inside one site stays whole (``[双手第2、3掌指关节|BODY_PART]``),
  and so do a part shorter than two characters and a part that leaves its noun to the
  last part (``[右手拇、示指|BODY_PART]``, ``[双手掌指及指间关节|BODY_PART]``);
- ``place``: a site written with 处 ("the place at") takes it in, as 90 of the 97 such
  sites in the train files were written (``[腕管处|BODY_PART]``, ``[患处|BODY_PART]``);
  not 处方, 处理, 处置, and not a 处 that already starts another span.

The team's record files are rewritten to them (``tcm_desktop.training.conventions``)
and the engine applies them to the model's spans, so what the app proposes
follows the same rules the annotators do. Never applied after the doctor's
edits. Qt-free and model-free.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections import Counter
from collections.abc import Sequence
from typing import NamedTuple


class Span(NamedTuple):
    start: int
    end: int
    label: str
    assertion: str = "present"


#: Cue words S3 and S9 keep outside a CAUSE span, longest first.
CAUSE_CUES = ("长时间", "每于", "每遇", "每逢", "由于", "长期", "长年", "常年", "连日", "连续", "经常", "平素", "遇", "因",
              "好", "爱")
_ADVICE = re.compile(r"忌|避免|(?<!已)戒|预防|注意|勿|防止|(?<![不严])禁")
_CLAUSE_END = re.compile(r"[，。；;！？\n]|\d[.、．]")
_SHARED = re.compile(r"[、及和并伴与](?:有|见)?")
_JOINED = re.compile(r"[、及和与]?")
#: 及/和/、 between two sites, not inside a list of numbers (双手第2、3掌指关节, 左足第二、三趾); 与 joins
#: two landmarks of one site (肩峰与肱骨头间) and is left alone
_COORDINATION = re.compile(r"(?<=[^\W\dⅠ-Ⅻ一二三四五六七八九十])[及和、](?=[^\W\dⅠ-Ⅻ一二三四五六七八九十])")
#: a part that only names a finger or joint row with the rest left to the last part (拇、示指; 掌指及指间关节)
_ELLIPTIC = re.compile(r"(?:拇|示|食|中|环|小|掌指|跖趾|指间)$")
_DEGREE = re.compile(r"稍|略|轻|轻度|中度|重度")
_DURATION = re.compile(r"[0-9一二两三四五六七八九十几数]+个?(?:天|晚|夜|日|周|月|年|小时)")
_PLACE = re.compile(r"处(?![方理置])")
#: 熬夜 written straight before a second trigger or a time (熬夜赶稿, 熬夜至凌晨)
_NIGHT = re.compile(r"(熬夜)(?:[后、及和并]?)(?:([至到]|$))?")
FINDINGS = ("SIGN", "SYMPTOM")


def _advice(text: str, ents: list[Span], changes: Counter) -> list[Span]:
    # clause starts found once per text, not rescanned from the start for every CAUSE span
    starts = [0] + [m.end() for m in _CLAUSE_END.finditer(text)] if any(e.label == "CAUSE" for e in ents) else [0]
    kept = []
    for e in ents:
        if e.label == "CAUSE":
            clause = text[starts[bisect_right(starts, e.start) - 1] : e.start]
            if _ADVICE.search(clause):
                changes["advice"] += 1
                continue
        kept.append(e)
    return kept


def _cues(text: str, ents: list[Span], changes: Counter) -> list[Span]:
    out = []
    for e in ents:
        if e.label == "CAUSE":
            span = text[e.start : e.end]
            cue = next((c for c in CAUSE_CUES if span.startswith(c) and len(span) > len(c)), None)
            if cue == "爱" and span.startswith("爱人"):  # the spouse, not a habit word
                cue = None
            if cue:
                start = e.start + len(cue)
                dur = _DURATION.match(text, start, e.end)
                if dur and dur.end() < e.end:
                    start = dur.end()
                e = Span(start, e.end, e.label, e.assertion)
                changes["cue"] += 1
        out.append(e)
    return out


def _night(text: str, ents: list[Span], changes: Counter) -> list[Span]:
    out: list[Span] = []
    for e in ents:
        m = _NIGHT.match(text[e.start : e.end]) if e.label == "CAUSE" else None
        if m and e.start + m.end(1) < e.end:
            head = Span(e.start, e.start + m.end(1), e.label, e.assertion)
            rest = e.start + m.end()
            out.append(head)
            if m.group(2) is None and e.end - rest >= 2:
                out.append(Span(rest, e.end, e.label, e.assertion))
            changes["night"] += 1
            continue
        out.append(e)
    return out


def _coordinated(text: str, ents: list[Span], changes: Counter) -> list[Span]:
    out: list[Span] = []
    for e in ents:
        if e.label == "BODY_PART":
            cuts = [m.start() for m in _COORDINATION.finditer(text, e.start, e.end)]
            bounds = list(zip([e.start] + [c + 1 for c in cuts], cuts + [e.end]))
            whole = any(_ELLIPTIC.search(text, a, b) for a, b in bounds[:-1])
            if cuts and not whole and all(b - a >= 2 for a, b in bounds):
                out.extend(Span(a, b, e.label, e.assertion) for a, b in bounds)
                changes["coordinated"] += 1
                continue
        out.append(e)
    return out


def _place(text: str, ents: list[Span], changes: Counter) -> list[Span]:
    starts = {e.start for e in ents}
    out = []
    for e in ents:
        if e.label == "BODY_PART" and _PLACE.match(text, e.end) and e.end not in starts and text[e.end - 1] != "处":
            e = Span(e.start, e.end + 1, e.label, e.assertion)
            changes["place"] += 1
        out.append(e)
    return out


def _sites(text: str, ents: list[Span], changes: Counter) -> list[Span]:
    ents = sorted(ents, key=lambda e: e.start)
    out: list[Span] = []
    i = 0
    while i < len(ents):
        e = ents[i]
        nxt = ents[i + 1] if i + 1 < len(ents) else None
        gap_ok = nxt is not None and (nxt.start == e.end or _DEGREE.fullmatch(text[e.end : nxt.start]) is not None)
        if e.label == "BODY_PART" and gap_ok and nxt.label in FINDINGS:
            after = ents[i + 2] if i + 2 < len(ents) else None
            gap = text[nxt.end : after.start] if after is not None else ""
            shared = after is not None and after.label in FINDINGS and _SHARED.fullmatch(gap) is not None
            if not shared:
                start = e.start
                while out and out[-1].label == "BODY_PART" and _JOINED.fullmatch(text[out[-1].end : start]):
                    start = out.pop().start
                out.append(Span(start, nxt.end, nxt.label, nxt.assertion))
                changes["site"] += 1
                i += 2
                continue
        out.append(e)
        i += 1
    return out


def apply_conventions(text: str, spans: Sequence[Span]) -> tuple[list[Span], Counter]:
    """The spans after the conventions, and how many spans each one changed."""
    changes: Counter = Counter()
    out = _advice(text, [Span(*s) for s in spans], changes)
    out = _cues(text, out, changes)
    out = _night(text, out, changes)
    out = _coordinated(text, out, changes)
    out = _place(text, out, changes)
    fused = -1
    while changes["site"] != fused:  # a fused finding can take in the site before it: repeat to a fixed point
        fused = changes["site"]
        out = _sites(text, out, changes)
    return sorted(out, key=lambda e: e.start), changes
