"""Layout rules of the clean stage: line-break hyphenation and PDF line joining.

Part of :mod:`topics.clean` (which re-exports :func:`dehyphenate` and :func:`join_lines` and
applies them in :data:`topics.clean.RULES`); kept apart because deciding where a PDF line
break is a paragraph break is the longest and most delicate piece of cleaning.
"""

from __future__ import annotations

import bisect
import functools
import re
import unicodedata
from collections import Counter
from collections.abc import Callable

__all__ = ["dehyphenate", "join_lines"]

Rule = Callable[[str], str]


@functools.lru_cache(maxsize=4096)
def _script(ch: str) -> str:
    name = unicodedata.name(ch, "")
    if name.startswith("LATIN"):
        return "lat"
    if name.startswith("CYRILLIC"):
        return "cyr"
    return "other"


def _fixpoint(fn: Rule, text: str, limit: int = 5) -> str:
    for _ in range(limit):
        new = fn(text)
        if new == text:
            break
        text = new
    return text


# --------------------------------------------------------------------------- hyphenation

_HYPHENS = "-\u2010\u2011"
_BREAK = re.compile(
    rf"(?P<a>\w+)[{_HYPHENS}][ \t]*(?P<sep>\n(?:[ \t]*\n)*)[ \t]*(?P<b>\w+)(?P<rest>\S*)"
    r"(?:(?P<eol>[ \t]*(?P<sep2>\n(?:[ \t]*\n)*|\Z))|[ \t]*)"
)
_INLINE = re.compile(r"(?<![\w-])(?P<a>[^\W\d_]{2,})- (?P<b>[^\W\d_]{2,})(?![\w-])")
_TOKEN = re.compile(r"\w+(?:[-\u2010\u2011]\w+)*")
# First parts of compounds that keep their hyphen (`онлайн-ресурстар`, `e-learning`).
_PREFIXES = frozenset(
    "онлайн офлайн оффлайн веб интернет медиа мультимедиа видео аудио бизнес пресс вице экс "
    "экспресс блиц мини макси микро поп арт топ кол ата эне илимий окуу социалдык маалыматтык "
    "үй эне e self non co well high low long short cross multi mid pre post anti ex vice".split()
)
_PARTICLES = frozenset("то либо нибудь ка таки де".split())


class _Vocab:
    """Word evidence from the document itself, for hyphenation decisions."""

    def __init__(self, text: str) -> None:
        words: Counter[str] = Counter()
        pairs: set[str] = set()
        firsts: set[str] = set()
        for tok in _TOKEN.findall(text.lower()):
            parts = re.split(rf"[{_HYPHENS}]", tok)
            words.update(parts)
            for a, b in zip(parts, parts[1:], strict=False):
                pairs.add(f"{a}-{b}")
                firsts.add(a)
        self.words, self.pairs, self.firsts = words, pairs, firsts
        self.sorted = sorted(words)

    def has_prefix(self, stem: str) -> bool:
        i = bisect.bisect_left(self.sorted, stem)
        return i < len(self.sorted) and self.sorted[i].startswith(stem)


def _keep_hyphen(a: str, b: str, vocab: _Vocab) -> bool:
    """Decide whether ``a-`` + line break + ``b`` is a real hyphenated word."""
    if a[-1].isdigit() or b[0].isdigit():
        return True
    la, lb = a.lower(), b.lower()
    if lb in _PARTICLES:
        return True
    if vocab.words.get(la + lb):
        return False
    if f"{la}-{lb}" in vocab.pairs:
        return True
    if b[0].isupper() and not (a.isupper() and b.isupper()):
        return True  # `Улан-Батор`, `Кыргыз-Түрк`
    if la in _PREFIXES or la == lb or (len(a) >= 2 and a.isupper() and not b.isupper()):
        return True
    stem_seen = len(lb) >= 2 and vocab.has_prefix(la + lb[:2])
    if la in vocab.firsts and not stem_seen:
        return True
    return False


def dehyphenate(text: str) -> str:
    r"""Rejoin words hyphenated across line breaks, keeping real hyphenated words.

    ``Кыр-`` + newline + ``гызстандагы`` becomes ``Кыргызстандагы``, while ``2021-жылы``,
    ``окуу-усулдук`` or ``онлайн-ресурстарды`` keep their hyphen. The decision uses the
    document's own vocabulary: the joined word (or its stem) seen elsewhere means join, the
    hyphenated form seen elsewhere means keep; digits keep the hyphen; otherwise the parts are
    joined unless the second part is capitalised or the first is a compound prefix. The joined
    word moves up to the first line, so line structure is kept for :func:`join_lines`. Inline
    ``мүмкүн- чүлүгү`` (a lost line break) is joined only when the document has the joined word.

    Examples
    --------
    >>> dehyphenate("анын ичинде Кыр-\n\nгызстандагы билим, Кыргызстан")
    'анын ичинде Кыргызстандагы\n\nбилим, Кыргызстан'
    """
    if "\n" in text and any(h in text for h in _HYPHENS):
        vocab = _Vocab(_BREAK.sub(" ", text))

        def fix_break(m: re.Match[str]) -> str:
            a, b = m.group("a"), m.group("b")
            word = a + ("-" if _keep_hyphen(a, b, vocab) else "") + b + m.group("rest")
            if m.group("eol") is not None:  # the moved word was all that line held
                return word + m.group("sep2")
            return word + m.group("sep")

        text = _fixpoint(lambda t: _BREAK.sub(fix_break, t), text)
    if "- " in text:
        vocab = _Vocab(text)

        def fix_inline(m: re.Match[str]) -> str:
            a, b = m.group("a"), m.group("b")
            joined = (a + b).lower()
            if b[0].islower() and vocab.words.get(joined):
                return a + b
            return m.group(0)

        text = _INLINE.sub(fix_inline, text)
    return text


# --------------------------------------------------------------------------- line joining

_TERMINAL = re.compile(r"[.!?…][»”\"')\]]*$")
_COLON = re.compile(r"[:;][»”\"')\]]*$")
_ABBREV_END = re.compile(
    r"(?:^|[\s(«“])(?:[A-ZА-ЯЁӨҮҢ]|ш|г|гг|ж\.б|т\.б|им|проф|доц|т\.е|т\.к|стр|обл|ул|р-н|"
    r"e\.g|i\.e|Dr|Mr|Mrs|Prof|No|vs|\d{1,3})\.$"
)
_BULLET = re.compile(r"^(?:[•●▪◦■□►▸‣⁃○➢✓✔]|[-–—*](?=\s)|\d{1,3}[.)](?=\s)|[a-zа-я]\)(?=\s))")
_STRONG_BULLET = re.compile(r"^[•●▪◦■□►▸‣⁃○➢✓✔]")
_MARKER_WORDS = (
    r"аннотация|annotation|abstract|summary|резюме|кыскача\s+мазмуну|негизги\s+сөздөр|"
    r"түйүндүү\s+сөздөр|өзөктүү\s+сөздөр|ачкыч\s+сөздөр|ключевые\s+слова|key\s*-?\s*words"
)
_REF_WORDS = (
    r"колдонулган\s+адабияттар(?:дын\s+тизмеси)?|пайдаланылган\s+адабияттар|адабияттар|"
    r"адабият|список\s+(?:использованной\s+)?литературы|использованная\s+литература|"
    r"литература|references|bibliography"
)
_MARKER = re.compile(rf"^(?:{_MARKER_WORDS}|{_REF_WORDS})\s*[:.–—-]|^(?:{_MARKER_WORDS})\s*$", re.I)
_REF_ALONE = re.compile(rf"^(?:{_REF_WORDS})\s*[:.]?$", re.IGNORECASE)
_FUNCTION_WORDS = frozenset(
    "of on the and in for to a an with at by from или и в на по для с к о об от из "
    "жана менен үчүн боюнча же".split()
)
_OPENERS = "«“\"'([„"


def _is_caps(line: str) -> bool:
    letters = [c for c in line if c.isalpha()]
    if len(letters) < 4 or len(line) > 200:
        return False
    if len(line.split()) < 2 and len(letters) < 8:
        return False
    return sum(c.isupper() for c in letters) >= 0.85 * len(letters)


def _main_script(line: str) -> str:
    counts = Counter(_script(c) for c in line if c.isalpha())
    return counts.most_common(1)[0][0] if counts else "other"


def _starts_upper(line: str) -> bool:
    s = line.lstrip(_OPENERS + " ")
    return bool(s) and (s[0].isupper() or s[0].isdigit())


def _ends_sentence(line: str) -> bool:
    if not _TERMINAL.search(line):
        return False
    core = line.rstrip("»”\"')] ")
    return not (_ABBREV_END.search(core) or re.fullmatch(r"\d{1,3}[.)]", core))


def _continues(prev: str, nxt: str) -> bool:
    """``nxt`` plainly continues the sentence of ``prev`` (no paragraph break possible)."""
    if nxt[0] in ",.;:!?)]}»”…":
        return True
    if _TERMINAL.search(prev) or _COLON.search(prev):
        return False
    return nxt[0].islower()


def _break(
    prev: str, nxt: str, indented: bool, hard: bool, first: str, width: float, noise: bool
) -> bool:
    """Whether a paragraph break goes between line ``prev`` and line ``nxt`` (both stripped).

    ``first`` is the first line of the paragraph that ``prev`` ends; ``width`` the document's
    typical line width.
    """
    if _continues(prev, nxt):
        return False
    if hard:
        return True
    term, colon = _ends_sentence(prev), bool(_COLON.search(prev))
    short = len(prev) < 0.75 * width or width > 200
    if _STRONG_BULLET.match(nxt):
        return True
    if _BULLET.match(nxt) and (term or colon or prev.endswith(",") or _BULLET.match(first)):
        return True
    if _MARKER.match(nxt) and nxt[0].isupper() or _REF_ALONE.match(prev):
        return True
    if _is_caps(prev) and first == prev:
        if _is_caps(nxt):
            last = prev.split()[-1].lower()
            same = _main_script(prev) == _main_script(nxt)
            return not (same and (last in _FUNCTION_WORDS or len(nxt.split()) == 1))
        return _starts_upper(nxt) or nxt[0] in _OPENERS
    if _is_caps(nxt) and (term or colon):
        return True
    if term and (_starts_upper(nxt) or nxt[0] in _OPENERS):
        heading_like = len(nxt) < 0.6 * width and len(nxt.split()) <= 8
        return short or indented or heading_like
    if not noise and first == prev and len(prev) < 0.6 * width and len(prev.split()) <= 10:
        return not re.search(r"[.,;:!?…\-–—]$", prev) and _starts_upper(prev) and _starts_upper(nxt)
    return False


def _layout_noise(lines: list[str]) -> bool:
    """PDF text layer with a blank line after every line, cutting sentences mid-way."""
    texts, gaps = [], []
    blank = False
    for line in lines:
        if not line.strip():
            blank = True
            continue
        if texts:
            gaps.append(blank)
        texts.append(line.strip())
        blank = False
    n_blank = sum(gaps)
    if len(gaps) < 4 or n_blank < 0.5 * len(gaps):
        return False
    cont = sum(
        1
        for g, a, b in zip(gaps, texts, texts[1:], strict=False)
        if g and (_continues(a, b) or a.endswith(tuple(_HYPHENS)))
    )
    return cont >= 0.25 * n_blank


def join_lines(text: str) -> str:
    r"""Rejoin lines into paragraphs separated by exactly one blank line.

    In PDF text layers with layout noise (a blank line after most lines, which end
    mid-sentence) blank lines are ignored and a space-only line marks a paragraph break; in
    normal text blank lines separate paragraphs. A paragraph also ends at ``. ! ? …`` on a
    short line or before an indented line; before a bullet (``•``, ``-``, ``–``, ``1.``,
    ``1)``) or a section marker (``Аннотация:``, ``Key words:``, ``Адабияттар``); after a
    heading (a caps line; in normal text a short first line without final punctuation before
    a capitalised line). Never where the next line plainly continues the sentence.

    Parameters
    ----------
    text : str

    Returns
    -------
    str
        Paragraphs separated by ``"\n\n"``, without trailing spaces or blank lines.

    Examples
    --------
    >>> join_lines("Бүгүнкү шарттарда\n\nдүйнө жүзүндө.\n \nЭкинчи абзац.")
    'Бүгүнкү шарттарда дүйнө жүзүндө.\n\nЭкинчи абзац.'
    """
    lines = text.split("\n")
    noise = _layout_noise(lines)
    lengths = sorted(len(s.strip()) for s in lines if s.strip())
    if not lengths:
        return ""
    width = float(lengths[int(0.8 * (len(lengths) - 1))])
    paragraphs: list[list[str]] = []
    sep: list[str] = []  # the blank/space-only lines since the last text line
    for raw in lines:
        line = raw.strip()
        if not line:
            sep.append(raw)
            continue
        # In layout noise only a space-only line is a hard separator; empty lines are noise.
        hard = any(s != "" for s in sep) if noise else bool(sep)
        cur = paragraphs[-1] if paragraphs else None
        if cur and not _break(cur[-1], line, raw[:1].isspace(), hard, cur[0], width, noise):
            cur.append(line)
        else:
            paragraphs.append([line])
        sep = []
    out = []
    for para in paragraphs:
        joined = para[0]
        for line in para[1:]:
            joined += line if line[0] in ",.;:!?)]}»”…" else " " + line
        out.append(re.sub(r" {2,}", " ", joined))
    return "\n\n".join(out)
