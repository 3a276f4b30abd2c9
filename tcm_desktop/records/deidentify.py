"""De-identified copies of records for research: identifiers out, clinical content in.

What is found (rules, no model: they must work on any record and be auditable):

* patient names: the names given by the caller (the patient field), each
  surname + honorific (张先生, 张某), and names written after a cue such as
  ``姓名：``, ``患者``/``病人``/``患儿`` (a common surname + one or two characters
  followed by a separator, 男/女 or an age), family members and contacts;
* phone numbers (mobile with or without +86 and separators, landlines with an
  area code, any number after 电话/手机/Tel), Chinese ID card numbers (18 and
  15 digits), e-mail addresses;
* addresses: the text after 住址/地址/家住/现住…, anything starting with a
  province name, and a street + number (…路88号3单元502室);
* hospital numbers (住院号, 门诊号, 病历号, 病案号, 就诊卡号…) and insurance
  numbers (医保号, 社保卡号…): the number after the cue;
* any run of 11 or more digits (cards, accounts, numbers written together);
* birth dates (after 出生/生日); other calendar dates are shifted by a
  per-patient number of days when asked (relative times like ``3年前`` stay).

Each identifier becomes a placeholder (``[姓名]``, ``[电话]``…); full-width
digits and letters are matched like ASCII ones. Entity offsets are recomputed
against the new text: an entity that *contains* an identifier is kept and
stretched or shrunk with it (its ``normalized`` is cleared when its text
changed, since it may hold the old value); an entity that lies inside an
identifier or crosses its edge is **dropped**. Sections and prescription rows
are moved with the text. Every other string in the record (normalized values,
tongue notes) is scrubbed with the same rules.
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
import re
import secrets
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from tcm_desktop.structured import FoundEntity, StructuredRecord

PLACEHOLDERS: dict[str, str] = {
    "name": "[姓名]",
    "phone": "[电话]",
    "id_card": "[身份证号]",
    "email": "[邮箱]",
    "address": "[地址]",
    "record_no": "[病历号]",
    "insurance": "[医保号]",
    "birth_date": "[出生日期]",
    "wechat": "[微信号]",
    "date": "[日期]",
    "number": "[编号]",
}

# -- character classes -----------------------------------------------------------------------------
_CJK = "\u4e00-\u9fff"
_SEP = r"[\s:：=]*"
# Common Chinese surnames (the ~150 most frequent single ones and the compound ones); a name after
# 患者 must start with one, which keeps "患者反复胃脘胀痛" from being read as a name.
_SURNAMES_1 = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金"
    "石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤常温康施文牛樊葛邢安齐易乔伍庞颜倪庄聂章鲁岳"
    "翟殷詹申欧耿关兰焦俞左柳甘祝包宁尚符舒阮柯纪梅童凌毕单季裴霍涂成苗谷盛曲翁冉骆蓝路游辛靳管柴蒙鲍华喻祁蒲房滕屈饶解牟艾尤阳"
    "时穆农司卓古吉缪简车项连芦麦褚娄窦戚岑景党宫费卜冷晏席卫米柏宗瞿桂全佟应臧闵苟邬边卞姬师和仇栾隋商刁沙荣巫寇桑郎甄丛仲虞敖"
    "巩明佘池查麻苑迟邝"
)
_SURNAMES_2 = ("欧阳", "司马", "上官", "诸葛", "东方", "皇甫", "尉迟", "公孙", "慕容", "长孙", "宇文", "司徒", "夏侯", "令狐")
_SURNAME = "(?:" + "|".join(_SURNAMES_2) + f"|[{_SURNAMES_1}])"
# Characters that make a "name" after 患者 really clinical text (患者常乏力 is not a person called 常乏力).
_CLINICAL_CHARS = set(
    "痛胀酸麻痒咳嗽喘热寒汗渴饮纳眠便溺尿泻呕吐恶晕眩乏倦怠胸腹脘胁腰膝舌苔脉咽喉痰血经孕"
    "反复加重减轻缓解发作伴无示因于既往诉述感觉自突逐渐有"
)
_PROVINCES = (
    "黑龙江|内蒙古|北京|天津|上海|重庆|河北|山西|辽宁|吉林|江苏|浙江|安徽|福建|江西|山东|河南|湖北|湖南|广东|海南|四川|贵州|"
    "云南|陕西|甘肃|青海|台湾|广西|西藏|宁夏|新疆|香港|澳门"
)
_ADDR_BODY = f"[{_CJK}0-9A-Za-z#\\-－（）()]"
_NUM_CN = "0-9零〇一二三四五六七八九十百"

_PATTERNS: list[tuple[str, re.Pattern[str], int]] = [
    # (kind, pattern, group holding the identifier; 0 = whole match)
    ("email", re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}"), 0),
    ("id_card", re.compile(
        r"(?<![0-9A-Za-z])[1-9]\d{5}[\s\-]?(?:18|19|20)\d{2}[\s\-]?(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])"
        r"[\s\-]?\d{3}[0-9Xx](?![0-9A-Za-z])"), 0),
    ("id_card", re.compile(r"(?<![0-9A-Za-z])[1-9]\d{7}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}(?![0-9A-Za-z])"), 0),
    ("id_card", re.compile(r"(?:身份证|证件)(?:号码|号)?" + _SEP + r"([0-9Xx*\s\-]{8,22}[0-9Xx*])"), 1),
    ("insurance", re.compile(
        r"(?:医保|社保|医疗保险|保险|农合|新农合)(?:卡号|卡|号码|号|编号|账号|(?=[:：]))" + _SEP + r"([0-9A-Za-z][0-9A-Za-z\-]{3,30})"), 1),
    ("record_no", re.compile(
        r"(?:住院号|门诊号|病历号|病案号|就诊号|就诊卡号|诊疗卡号|就诊卡|健康卡号|登记号|床号|ID号|ID|病人ID|患者ID|档案号|编号)"
        + _SEP + r"([0-9A-Za-z][0-9A-Za-z\-]{2,30})"), 1),
    ("phone", re.compile(
        r"(?:电话|手机|联系电话|联系方式|手机号|手机号码|电话号码|Tel|TEL|tel|Phone|phone|微信)" + _SEP
        + r"(\+?[0-9][0-9\s\-()（）]{5,20}[0-9])"), 1),
    ("phone", re.compile(
        r"(?<![0-9])(?:(?:\+|00)?86[\s\-]?)?1[3-9]\d[\s\-]?\d{4}[\s\-]?\d{4}(?![0-9])"), 0),
    ("phone", re.compile(r"(?<![0-9])(?:[(（]0\d{2,3}[)）]\s?|0\d{2,3}[\s\-]\s?)(?:\d{7,8}|\d{3,4}[\s\-]\d{4})(?:[\-转]\d{1,5})?(?![0-9])"), 0),
    # Any run of 11+ digits (a card, account or two numbers written together): clinical values are never this long.
    ("number", re.compile(r"(?<![0-9])[0-9]{11,}(?![0-9])"), 0),
    ("birth_date", re.compile(
        r"(?:出生日期|出生年月|出生于|出生|生于|生日|DOB)" + _SEP
        + r"((?:19|20)\d{2}\s*(?:年|[\-/.])\s*\d{1,2}(?:\s*(?:月|[\-/.])\s*(?:\d{1,2}\s*日?)?)?)"), 1),
    ("wechat", re.compile(r"(?:微信号|微信|WeChat|wechat|QQ号?)" + _SEP + r"([A-Za-z0-9][A-Za-z0-9_\-]{4,19})"), 1),
    ("address", re.compile(
        r"(?:家庭住址|现住址|工作地址|住址|地址|家住|家在|现住|现居|住在|居住于|居住在|居住地|居住|暂住|户籍地|单位地址|工作单位|"
        r"(?<![入留])住(?![院所宿])|Address|address|Addr)" + _SEP
        + f"({_ADDR_BODY}{{2,40}})"), 1),
    ("address", re.compile(f"(?:{_PROVINCES})(?:省|市|自治区|壮族自治区|回族自治区|维吾尔自治区)?{_ADDR_BODY}{{2,40}}"), 0),
    ("address", re.compile(r"(?:Address|Addr|address)[:：]?\s*([A-Za-z0-9][A-Za-z0-9 ,#\-]{3,80}?)(?=[。;；\n]|\.\s|\.$|$)"), 1),
    ("address", re.compile(
        f"(?:(?<=[，,。；;：:\\s住在于自])|^)[{_CJK}]{{1,8}}?(?:路|街|巷|弄|大道|胡同|道)[{_NUM_CN}\\-]+号"
        f"(?:院)?(?:[{_NUM_CN}]+(?:号楼|栋|幢|座|楼))?(?:[{_NUM_CN}]+单元)?(?:[{_NUM_CN}]+室)?", re.M), 0),
    ("name", re.compile(r"(?:姓名|Name|name|NAME)" + _SEP + r"([A-Z][a-z]+(?:[ \-][A-Z][a-z]+)+)"), 1),
    ("name", re.compile(r"(?:姓名|患者姓名|病人姓名|签名|签字|(?:联系人|家属|监护人)[:：]|(?:主治|经治|接诊)?(?:医师|医生)[:：])" + _SEP
                        + f"([{_CJK}]{{1,3}}(?:·[{_CJK}]{{1,6}})?)"), 1),
    ("name", re.compile(
        r"(?:患者|病人|病者|患儿|就诊者|联系人|家属|监护人|其夫|其妻|其子|其女|其母|其父|其兄|其姐|其弟|其妹|配偶|爱人|丈夫|妻子|父亲|母亲|儿子|女儿|之子|之女)" + _SEP
        + f"({_SURNAME}[{_CJK}]{{1,2}}?)(?=[，,、\\s（(。；;:：]|男|女|\\d+岁|[{_NUM_CN}]+岁|先生|女士|同学|某|陪|来|代|诉|因|于|就|今)"),
        1),
    ("name", re.compile(f"{_SURNAME}(?:先生|女士|小姐|老先生|老太太|阿姨|大爷|师傅|某某|某)"), 0),
]

_DATE_PATTERNS = [
    re.compile(r"(?<![0-9])((?:19|20)\d{2})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日"),
    re.compile(r"(?<![0-9])((?:19|20)\d{2})([\-/.])(\d{1,2})\2(\d{1,2})(?![0-9])"),
]


# An address has a place unit or a number in it (Latin addresses: a number or a comma).
_ADDRESS_MARK = re.compile("[省市区县镇乡村组路街道巷弄号楼栋幢室]|小区|社区|公司|学校|单位|工厂|[0-9]|[A-Za-z]+,")


@dataclass(frozen=True)
class Identifier:
    """One identifier found in a text: ``text[start:end]`` of ``kind`` and what replaces it."""

    start: int
    end: int
    kind: str
    replacement: str


def _ascii_fold(text: str) -> str:
    """Full-width ASCII (０１２, ＠) as ASCII, same length, so offsets in the folded text are the original's."""
    return "".join(chr(ord(c) - 0xFEE0) if 0xFF01 <= ord(c) <= 0xFF5E else c for c in text)


def _plausible_name(candidate: str) -> bool:
    return not any(c in _CLINICAL_CHARS for c in candidate[1:])


def find_identifiers(text: str, names: Iterable[str] = (), date_shift_days: int | None = None) -> list[Identifier]:
    """Identifiers in ``text``, sorted and non-overlapping (a longer one wins over one it overlaps).

    ``names`` are known names (the patient field) matched anywhere; with
    ``date_shift_days`` calendar dates are found and shifted by that many days.
    """
    folded = _ascii_fold(text)
    found: list[Identifier] = []
    for name in {n.strip() for n in names if n and len(n.strip()) >= 2}:
        for m in re.finditer(re.escape(_ascii_fold(name)), folded):
            found.append(Identifier(m.start(), m.end(), "name", PLACEHOLDERS["name"]))
    for kind, pattern, group in _PATTERNS:
        for m in pattern.finditer(folded):
            s, e = m.span(group)
            if e <= s:
                continue
            value = folded[s:e].rstrip()
            e = s + len(value)
            if kind == "name" and group and not _plausible_name(value):
                continue
            if kind == "address":
                value = value.rstrip("（(，,")
                e = s + len(value)
                if not _ADDRESS_MARK.search(value):
                    continue  # 忍不住咳嗽 is not an address
            found.append(Identifier(s, e, kind, PLACEHOLDERS[kind]))
    # A name found after a cue (患者张三) is then found everywhere else in the text too.
    known = {folded[f.start:f.end] for f in found if f.kind == "name"}
    for name in known:
        if len(name) >= 2:
            for m in re.finditer(re.escape(name), folded):
                found.append(Identifier(m.start(), m.end(), "name", PLACEHOLDERS["name"]))
    if date_shift_days is not None:
        found.extend(_dates(folded, date_shift_days))
    return _resolve_overlaps(found)


def _dates(text: str, days: int) -> list[Identifier]:
    out = []
    for m in _DATE_PATTERNS[0].finditer(text):
        new = _shift(m.group(1), m.group(2), m.group(3), days)
        if new:
            out.append(Identifier(m.start(), m.end(), "date", f"{new.year}年{new.month}月{new.day}日"))
    for m in _DATE_PATTERNS[1].finditer(text):
        new = _shift(m.group(1), m.group(3), m.group(4), days)
        if new:
            sep = m.group(2)
            width = 2 if len(m.group(3)) == 2 else 1
            out.append(Identifier(m.start(), m.end(), "date",
                                  f"{new.year}{sep}{new.month:0{width}d}{sep}{new.day:0{width}d}"))
    return out


def _shift(y: str, m: str, d: str, days: int) -> date | None:
    try:
        return date(int(y), int(m), int(d)) + timedelta(days=days)
    except ValueError:
        return None


def _resolve_overlaps(found: list[Identifier]) -> list[Identifier]:
    """Merge overlapping finds into one span (their union: a part of an identifier never stays in clear).

    The merged span takes the placeholder of its longest part (a shifted date
    only survives when nothing else overlaps it).
    """
    merged: list[tuple[int, int, Identifier]] = []  # start, end, longest part
    for f in sorted(found, key=lambda f: (f.start, -(f.end - f.start))):
        if merged and f.start < merged[-1][1]:
            s0, e0, best = merged[-1]
            if f.end - f.start > best.end - best.start:
                best = f
            merged[-1] = (s0, max(e0, f.end), best)
        else:
            merged.append((f.start, f.end, f))
    out = []
    for start, end, best in merged:
        if best.kind == "date" and (start, end) != (best.start, best.end):
            best = Identifier(start, end, "date", PLACEHOLDERS["date"])
        out.append(Identifier(start, end, best.kind, best.replacement))
    return out


# -- applying replacements -------------------------------------------------------------------------

@dataclass
class OffsetMap:
    """Old-text offsets -> new-text offsets after the replacements were applied."""

    spans: list[tuple[int, int, int, int]] = field(default_factory=list)  # old start, old end, new start, new end

    def _delta_before(self, pos: int) -> int:
        return sum((ne - ns) - (oe - os_) for os_, oe, ns, ne in self.spans if oe <= pos)

    def inside(self, pos: int) -> tuple[int, int, int, int] | None:
        return next((s for s in self.spans if s[0] < pos < s[1]), None)

    def start(self, pos: int) -> int:
        hit = self.inside(pos)
        return hit[2] if hit else pos + self._delta_before(pos)

    def end(self, pos: int) -> int:
        hit = self.inside(pos)
        return hit[3] if hit else pos + self._delta_before(pos)


def apply(text: str, found: Sequence[Identifier]) -> tuple[str, OffsetMap]:
    """The text with every identifier replaced, and the offset map."""
    parts, pos, shift = [], 0, 0
    omap = OffsetMap()
    for f in found:
        parts.append(text[pos:f.start])
        parts.append(f.replacement)
        new_start = f.start + shift
        omap.spans.append((f.start, f.end, new_start, new_start + len(f.replacement)))
        shift += len(f.replacement) - (f.end - f.start)
        pos = f.end
    parts.append(text[pos:])
    return "".join(parts), omap


def scrub_text(text: str, names: Iterable[str] = (), date_shift_days: int | None = None) -> str:
    """``text`` with its identifiers replaced (for strings without offsets to keep)."""
    return apply(text, find_identifiers(text, names, date_shift_days))[0]


def _scrub_value(value: Any, names: Sequence[str], days: int | None) -> Any:
    if isinstance(value, str):
        return scrub_text(value, names, days)
    if isinstance(value, list):
        return [_scrub_value(v, names, days) for v in value]
    if isinstance(value, dict):
        return {k: _scrub_value(v, names, days) for k, v in value.items()}
    return value


# -- records ---------------------------------------------------------------------------------------

@dataclass
class Report:
    """What de-identification did to one record (counts by kind, entities adjusted/dropped)."""

    found: dict[str, int] = field(default_factory=dict)
    adjusted_entities: int = 0
    dropped_entities: list[FoundEntity] = field(default_factory=list)


def deidentify_record(record: StructuredRecord, names: Iterable[str] = (), date_shift_days: int | None = None,
                      record_id: str | None = None) -> tuple[StructuredRecord, Report]:
    """A de-identified copy of ``record`` (the original is not changed) and what was done.

    ``record_id`` replaces the record's id (ids can be file names or hospital
    numbers); by default the id is kept.
    """
    names = [n for n in names if n]
    found = find_identifiers(record.text, names, date_shift_days)
    new_text, omap = apply(record.text, found)
    report = Report()
    for f in found:
        report.found[f.kind] = report.found.get(f.kind, 0) + 1
    out = copy.deepcopy(record)
    out.text = new_text
    if record_id is not None:
        out.id = record_id
    moved: dict[int, int] = {}
    entities = []
    for e in record.entities:
        touching = [s for s in omap.spans if s[0] < e.end and s[1] > e.start]
        if any(s[0] < e.start or s[1] > e.end for s in touching):
            report.dropped_entities.append(e)  # inside an identifier or across its edge
            continue
        ne = copy.deepcopy(e)
        ne.start, ne.end = omap.start(e.start), omap.end(e.end)
        ne.text = new_text[ne.start:ne.end]
        if touching:
            report.adjusted_entities += 1
            ne.normalized = {}
        else:
            ne.normalized = _scrub_value(ne.normalized, names, date_shift_days)
        moved[e.start] = ne.start
        entities.append(ne)
    out.entities = entities
    for s in out.sections:
        s.start, s.end = omap.start(s.start), omap.end(s.end)
        s.title = scrub_text(s.title, names, date_shift_days)
    for item in out.prescription.items:
        item.entity_start = moved.get(item.entity_start, -1)
    if out.tongue is not None:
        out.tongue = _scrub_value(out.tongue, names, date_shift_days)
    return out, report


class Deidentifier:
    """De-identifies many records consistently: one pseudonym and one date shift per patient.

    ``secret`` keys the pseudonyms and the shifts (random per export unless
    given, so two exports cannot be linked); shifts are whole days within
    ±``max_shift_days`` (never 0), the same for every record of one patient so
    intervals between visits stay true.
    """

    def __init__(self, shift_dates: bool = False, secret: bytes | None = None, max_shift_days: int = 365) -> None:
        self.shift_dates = shift_dates
        self.secret = secret or secrets.token_bytes(32)
        self.max_shift_days = max_shift_days

    def _digest(self, what: str, key: str) -> bytes:
        return hmac.new(self.secret, f"{what}\x00{key}".encode(), hashlib.sha256).digest()

    def pseudonym(self, key: str, prefix: str = "R") -> str:
        return prefix + self._digest("id", key).hex()[:12]

    def shift_for(self, patient_key: str) -> int | None:
        if not self.shift_dates:
            return None
        n = int.from_bytes(self._digest("shift", patient_key)[:4], "big") % (2 * self.max_shift_days)
        return n - self.max_shift_days if n < self.max_shift_days else n - self.max_shift_days + 1

    def record(self, record: StructuredRecord, patient_name: str = "", patient_key: str = "",
               extra_names: Iterable[str] = ()) -> tuple[StructuredRecord, Report]:
        key = patient_key or patient_name or record.id
        return deidentify_record(record, [patient_name, *extra_names], self.shift_for(key),
                                 record_id=self.pseudonym(record.id))

    def export_dict(self, data: Mapping[str, Any]) -> dict[str, Any]:
        """De-identify one export dict: a :meth:`StructuredRecord.to_dict` shape plus any extra fields.

        Patient fields (``patient_name``, ``patient``…) become placeholders,
        ids become pseudonyms, the record part goes through
        :func:`deidentify_record`, every other string is scrubbed.
        """
        d = dict(data)
        patient = d.get("patient")
        pname = str(d.get("patient_name") or (patient.get("name") if isinstance(patient, Mapping) else "") or "")
        pid = str(d.get("patient_id") or (patient.get("id") if isinstance(patient, Mapping) else "") or "")
        key = pid or pname or str(d.get("id", ""))
        days = self.shift_for(key)
        names = [pname] if pname else []
        out: dict[str, Any] = {}
        if "text" in d and "id" in d:
            rec, _ = deidentify_record(StructuredRecord.from_dict(d), names, days, self.pseudonym(str(d["id"])))
            out.update(rec.to_dict())
        for k, v in d.items():
            if k in out:
                continue
            if k in ("patient_name", "name"):
                out[k] = PLACEHOLDERS["name"] if v else v
            elif k in ("patient_id", "record_id"):
                out[k] = self.pseudonym(str(v), "P" if k == "patient_id" else "R") if v not in (None, "") else v
            elif k == "patient" and isinstance(v, Mapping):
                out[k] = {pk: (PLACEHOLDERS["name"] if pk == "name" else
                               self.pseudonym(str(pv), "P") if pk == "id" else _scrub_value(pv, names, days))
                          for pk, pv in v.items()}
            else:
                out[k] = _scrub_value(v, names, days)
        return out


def check_offsets(record: StructuredRecord) -> list[str]:
    """Problems with a record's entity offsets (empty when every entity matches its text)."""
    return [f"{e.label} {e.start}-{e.end}: {e.text!r} != {record.text[e.start:e.end]!r}"
            for e in record.entities if record.text[e.start:e.end] != e.text]


def leaks(data: Any, identifiers: Iterable[str]) -> list[str]:
    """Which of ``identifiers`` still appear anywhere in ``data`` (JSON-serialisable)."""
    blob = _ascii_fold(json.dumps(data, ensure_ascii=False))
    return [i for i in identifiers if _ascii_fold(i) in blob]
