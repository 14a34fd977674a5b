"""Clean stage: repair PDF/Word extraction defects before segmentation.

:func:`clean_document` applies the rules of :data:`RULES` in order. Each rule is a plain
``str -> str`` function that is idempotent (``rule(rule(x)) == rule(x)``) and never raises on
arbitrary Unicode text; any rule can be left out by name. The output holds one paragraph per
block, paragraphs separated by exactly one blank line, which is what
:func:`topics.segment.segment_document` expects.

Every rule takes and returns the whole document text (``str -> str``). Rules never drop or
reorder words of the running text: they remove markup leftovers (bookmarks,
URLs, page numbers, footnote digits) and change only whitespace and line-break hyphenation, so
every sentence of the source ends up whole inside one paragraph.
"""

from __future__ import annotations

import bisect
import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable

__all__ = [
    "RULES",
    "clean_document",
    "normalize_unicode",
    "fix_kyrgyz_u",
    "fix_mixed_script",
    "remove_conversion_artifacts",
    "remove_urls_emails",
    "remove_page_numbers",
    "remove_footnote_markers",
    "dehyphenate",
    "join_lines",
]

Rule = Callable[[str], str]

# --------------------------------------------------------------------------- unicode

_NEWLINES = re.compile(r"\r\n|[\r\x0b\x0c\x85\u2028\u2029]")
_SPACES = re.compile(r"[^\S\n]+")  # any whitespace except newline (tab, NBSP, thin space ...)
_SOFT_HYPHEN_BREAK = re.compile(r"\u00ad[^\S\n]*\n(?:[^\S\n]*\n)*[^\S\n]*")
# Private-use glyphs that Symbol/Wingdings fonts use for list bullets.
_PUA_BULLETS = frozenset("\uf0b7\uf0a7\uf0a8\uf076\uf0d8\uf0fc\uf06e\uf0b2\uf0e0\uf09f\uf0a0")
_LIGATURES = {"\ufb00": "ff", "\ufb01": "fi", "\ufb02": "fl", "\ufb03": "ffi", "\ufb04": "ffl"}


def _char_map(ch: str) -> str:
    if ch in "\n\t":
        return ch
    if ch in _PUA_BULLETS:
        return "•"
    if ch in _LIGATURES:
        return _LIGATURES[ch]
    cat = unicodedata.category(ch)
    if cat in ("Cc", "Cf", "Cs", "Co", "Cn"):
        return ""
    if cat == "Zs":
        return " "
    return ch


def normalize_unicode(text: str) -> str:
    r"""Normalise Unicode and whitespace.

    NFC composition; ``\r\n``/``\r``/form feeds/Unicode line separators become ``\n``;
    zero-width characters, soft hyphens, BOMs, control and private-use characters are removed
    (private-use list bullets of Symbol fonts become ``•``); NBSP, tabs and other spaces become
    a plain space and runs of spaces collapse to one. Newlines (and a single leading or
    trailing space on a line, which later rules read as layout) are kept.

    Examples
    --------
    >>> normalize_unicode("a\u00a0\u00a0b\u200b\r\nc")
    'a b\nc'
    """
    text = _NEWLINES.sub("\n", text)
    # A soft hyphen at a line end marks a word broken by the layout: rejoin it.
    text = _SOFT_HYPHEN_BREAK.sub("", text)
    text = "".join(_char_map(c) for c in text)
    text = unicodedata.normalize("NFC", text)
    return _SPACES.sub(" ", text)


# --------------------------------------------------------------------------- Kyrgyz ү


def fix_kyrgyz_u(text: str) -> str:
    """Repair Kyrgyz ү/Ү printed as ҥ/Ҥ by a broken font mapping.

    ҥ (U+04A5) is not a Kyrgyz letter; some PDF fonts map ү onto it. The replacement is made
    only when the document shows the fault: ҥ occurs and ү is absent or at most a quarter as
    frequent (and no ӱ, used by languages that do have ҥ). Real ң (U+04A3) is never touched.

    Examples
    --------
    >>> fix_kyrgyz_u("Билим берҥҥ, деңгээл")
    'Билим берүү, деңгээл'
    """
    bad = text.count("ҥ") + text.count("Ҥ")
    if not bad:
        return text
    good = text.count("ү") + text.count("Ү")
    if good * 4 > bad or "ӱ" in text or "Ӱ" in text:
        return text
    return text.replace("ҥ", "ү").replace("Ҥ", "Ү")


# --------------------------------------------------------------------------- mixed script

_LAT2CYR = dict(zip("ABCEHKMOPTXYaceopxy", "АВСЕНКМОРТХУасеорху", strict=True))
_CYR2LAT = {v: k for k, v in _LAT2CYR.items()}
_CYR2LAT.update({"і": "i", "ј": "j", "ѕ": "s", "І": "I", "Ј": "J", "Ѕ": "S"})
_LETTERS = re.compile(r"[^\W\d_]+")
_CODE_TOKEN = re.compile(r"://|www\.|@|[\w.-]+\.[a-z]{2,4}\b|_|\d")


def _script(ch: str) -> str:
    name = unicodedata.name(ch, "")
    if name.startswith("LATIN"):
        return "lat"
    if name.startswith("CYRILLIC"):
        return "cyr"
    return "other"


def _fix_word(word: str) -> str:
    scripts = [_script(c) for c in word]
    if "lat" not in scripts or "cyr" not in scripts or "other" in scripts:
        return word
    pairs = list(zip(word, scripts, strict=True))
    sure_cyr = sum(s == "cyr" and c not in _CYR2LAT for c, s in pairs)
    sure_lat = sum(s == "lat" and c not in _LAT2CYR for c, s in pairs)
    if sure_cyr and not sure_lat:
        target, table = "cyr", _LAT2CYR
    elif sure_lat and not sure_cyr:
        target, table = "lat", _CYR2LAT
    else:
        return word  # genuinely mixed or all letters ambiguous: leave it
    foreign = [i for i, s in enumerate(scripts) if s != target]
    # An acronym with a native suffix (`EAPтын`, `IT-шник`) is a real mixed token.
    if (
        len(foreign) >= 2
        and foreign == list(range(len(foreign)))
        and word[: len(foreign)].isupper()
    ):
        return word
    return "".join(table.get(c, c) if s != target else c for c, s in pairs)


def fix_mixed_script(text: str) -> str:
    """Replace look-alike letters of the wrong script inside words.

    A Latin ``C`` inside a Cyrillic word (``Cегодня``) becomes Cyrillic ``С``; Cyrillic
    ``о``/``е``/``Н`` inside a Latin word (``Ноmе``) become Latin. A word is changed only when
    its other letters are unambiguously of one script; genuinely mixed tokens (``EAPтын``),
    URLs, e-mail addresses and codes with digits or underscores are left alone.

    Examples
    --------
    >>> fix_mixed_script("Cегодня Cyber Ноmе")
    'Сегодня Cyber Home'
    """

    def fix_token(m: re.Match[str]) -> str:
        token = m.group(0)
        if _CODE_TOKEN.search(token):
            return token
        return _LETTERS.sub(lambda w: _fix_word(w.group(0)), token)

    return re.sub(r"\S+", fix_token, text)


# --------------------------------------------------------------------------- removals


def _fixpoint(fn: Rule, text: str, limit: int = 5) -> str:
    for _ in range(limit):
        new = fn(text)
        if new == text:
            break
        text = new
    return text


def _sub_lines(pattern: re.Pattern[str], repl: str | Callable, text: str) -> str:
    """Substitute per line; a line emptied by the substitution is removed with its newline."""
    out = []
    for line in text.split("\n"):
        new = pattern.sub(repl, line)
        if new != line:
            new = re.sub(r" {2,}", " ", new).rstrip() + (" " if line.endswith(" ") else "")
            if not re.search(r"[^\W_]", re.sub(r"^\s*\d{1,3}[.)]?\s*$", "", new)):
                continue  # nothing but punctuation or a list number left
        out.append(new)
    return "\n".join(out)


_ARTIFACT = re.compile(
    r"\[(?:bookmark|image|img|figure|picture|graphic|anchor|comment|shape|chart|media)\s*:[^\]\n]*\]"
    r"|\[\]\{#[^}\n]*\}|\{#[\w:.-]*\}|\{\.[\w-]+(?:\s+\.[\w-]+)*\}|\[\^\d+\]"
    r"|!\[[^\]\n]*\]\([^)\n]*\)|</?(?:br|p|div|span|font|b|i|u|em|strong|sup|sub|a)\b[^>\n]*>",
    re.IGNORECASE,
)
_MD_LINK = re.compile(r"\[([^\]\n]+)\]\((?:https?://|www\.|#)[^)\s]*\)")
_RULE_LINE = re.compile(r"^[ \t]*([_=*~#·.•-])(?:[ \t]*\1){2,}[ \t]*$", re.MULTILINE)


def remove_conversion_artifacts(text: str) -> str:
    """Remove Word/pandoc/HTML conversion leftovers.

    ``[bookmark: _1fob9te]``, ``[image: https://...]`` and similar bracketed markers, pandoc
    anchors and classes (``{#id}``, ``{.underline}``), footnote anchors ``[^1]``, image links,
    stray HTML tags; a Markdown link keeps its text. A rule line (``_____``, ``* * *``) becomes
    a blank line. A line left empty is removed.

    Examples
    --------
    >>> remove_conversion_artifacts("[bookmark: _3znysh7]Мектептик педиатр")
    'Мектептик педиатр'
    """

    def once(t: str) -> str:
        t = _sub_lines(_ARTIFACT, "", t)
        t = _MD_LINK.sub(r"\1", t)
        return _RULE_LINE.sub("", t)

    return _fixpoint(once, text)


_URL = re.compile(
    r"(?:\b(?:https?|ftp)://|\bwww\.)[^\s<>\"«»“”]*[^\s<>\"«»“”.,;:!?)\]}'’]"
    r"|\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+"
    r"|\b[a-z0-9-]+(?:\.[a-z0-9-]+)*\.(?:kg|ru|kz|tj|uz|mn|com|org|net|edu|gov|int|info|eu|io)"
    r"\b(?:/[^\s<>\"«»“”]*[^\s<>\"«»“”.,;:!?)\]}'’])?"
    r"|\S*(?:%[0-9A-Fa-f]{2}){3,}\S*"
    r"|\+\d{1,3}(?:[ ()-]{0,2}\d){6,12}\b",
    re.IGNORECASE,
)


def remove_urls_emails(text: str) -> str:
    """Remove URLs, e-mail addresses, percent-encoded junk and international phone numbers.

    So they never become topic words. A line left with nothing but punctuation or a list
    number (``1. http://...``) is removed.

    Examples
    --------
    >>> remove_urls_emails("сайтта www.safe.edu.kg жеткиликтүү")
    'сайтта жеткиликтүү'
    """
    return _fixpoint(lambda t: _sub_lines(_URL, "", t), text)


_PAGE_NUMBER = re.compile(
    r"^[ \t]*(?:[-–—][ \t]*)?\d{1,3}(?:[ \t]*[-–—])?[ \t]*$"
    r"|^[ \t]*(?:page|p\.|pp\.|стр\.?|страница|с\.|бет|б\.)[ \t]*\d{1,3}"
    r"(?:[ \t]*(?:of|из|/)[ \t]*\d{1,4})?[ \t]*$"
    r"|^[ \t]*\d{1,3}[ \t]*(?:-?[ \t]*бет|стр\.?|с\.)[ \t]*$"
    r"|^[ \t]*\d{1,3}[ \t]*/[ \t]*\d{1,3}[ \t]*$",
    re.IGNORECASE,
)


def remove_page_numbers(text: str) -> str:
    r"""Remove lines that hold only a page number.

    ``12``, ``- 12 -``, ``Page 3``, ``Page 3 of 10``, ``стр. 5``, ``3 бет``, ``4/12``. The
    line and its newline are removed, so the text around it reads on.

    Examples
    --------
    >>> remove_page_numbers("ыңгайлашууга\n26\nмүмкүнчүлүк")
    'ыңгайлашууга\nмүмкүнчүлүк'
    """
    lines = text.split("\n")
    return "\n".join(line for line in lines if not _PAGE_NUMBER.match(line))


# (after a longer word or punctuation only: `км²`, `m³` are units)
_SUPERSCRIPT = re.compile(r"(?:(?<=[^\W\d_]{3})|(?<=[.,;:!?»”\"')]))[¹²³⁰⁴-⁹]+")
# `өттү .1` / `сөз.1` / `сөз»2`: sentence punctuation then a glued footnote number.
_FN_AFTER_PUNCT = re.compile(
    r"(?<=[^\W\d_]{2})[ \t]?([.!?»”\"')]+)\d{1,2}(?=[ \t]*$|[ \t]+[«“\"(]?[A-ZА-ЯЁӨҮҢ])",
    re.MULTILINE,
)
# `сөз1.` at a sentence or line end: a lowercase word with a glued footnote number.
_FN_AFTER_WORD = re.compile(
    r"(?<![\w-])([a-zа-яёөүңәғқұһі]{3,})\d{1,2}(?=[.!?;]?[ \t]*$|[.!?;][ \t]+[A-ZА-ЯЁӨҮҢ])", re.M
)


def remove_footnote_markers(text: str) -> str:
    """Remove footnote reference numbers glued to words or punctuation.

    ``өттү .1`` becomes ``өттү.``; ``сөз1.`` becomes ``сөз.``; superscript digits after a word
    are dropped. Real numbers stay: years, ``2021-жылы``, ``5.1``, list numbers, ``COVID-19``,
    bracketed citations ``[1]`` and the footnote text line itself.

    Examples
    --------
    >>> remove_footnote_markers("окутууга өттү .1")
    'окутууга өттү.'
    """
    text = _SUPERSCRIPT.sub("", text)
    text = _FN_AFTER_PUNCT.sub(r"\1", text)
    return _FN_AFTER_WORD.sub(r"\1", text)


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


# --------------------------------------------------------------------------- pipeline

RULES: tuple[tuple[str, Rule], ...] = (
    ("normalize_unicode", normalize_unicode),
    ("fix_kyrgyz_u", fix_kyrgyz_u),
    ("fix_mixed_script", fix_mixed_script),
    ("remove_conversion_artifacts", remove_conversion_artifacts),
    ("remove_urls_emails", remove_urls_emails),
    ("remove_page_numbers", remove_page_numbers),
    ("remove_footnote_markers", remove_footnote_markers),
    ("dehyphenate", dehyphenate),
    ("join_lines", join_lines),
)
"""The cleaning rules, as ``(name, function)`` pairs in the order :func:`clean_document`
applies them."""


def clean_document(
    text: str,
    rules: Iterable[str | Rule | tuple[str, Rule]] | None = None,
    *,
    skip: Iterable[str] = (),
) -> str:
    r"""Clean one document's raw text for segmentation.

    Parameters
    ----------
    text : str
        Raw text as read from a txt/md/docx/pdf/html file.
    rules : iterable, optional
        The rules to apply, in order: names from :data:`RULES`, functions, or
        ``(name, function)`` pairs. Default: all of :data:`RULES`.
    skip : iterable of str, default ()
        Names of rules to leave out (e.g. ``skip={"fix_kyrgyz_u"}``).

    Returns
    -------
    str
        Paragraphs separated by exactly one blank line (when ``join_lines`` is applied).

    Raises
    ------
    TypeError
        If ``text`` is not a string.
    ValueError
        If a rule name is unknown.

    Examples
    --------
    >>> clean_document("Кыр-\n\nгызстан\n\n12\n\nжана Кыргызстан.")
    'Кыргызстан жана Кыргызстан.'
    """
    if not isinstance(text, str):
        raise TypeError(f"clean_document expects text as str, got {type(text).__name__}")
    by_name = dict(RULES)
    skip = set(skip)
    unknown = skip - set(by_name)
    if unknown:
        raise ValueError(f"unknown rule name(s) in skip: {sorted(unknown)}; known: {list(by_name)}")
    chosen: list[tuple[str, Rule]] = []
    for item in RULES if rules is None else rules:
        if isinstance(item, str):
            if item not in by_name:
                raise ValueError(f"unknown cleaning rule {item!r}; known rules: {list(by_name)}")
            chosen.append((item, by_name[item]))
        elif isinstance(item, tuple):
            chosen.append((str(item[0]), item[1]))
        elif callable(item):
            chosen.append((getattr(item, "__name__", repr(item)), item))
        else:
            raise TypeError(
                f"a rule must be a name, a function or a (name, function) pair: {item!r}"
            )
    chosen = [(name, rule) for name, rule in chosen if name not in skip]
    # Rules are idempotent one by one; a rule can still expose work for an earlier one
    # (a footnote digit removed leaves a mixed-script word), so run to a fixpoint.
    for _ in range(4):
        before = text
        for _name, rule in chosen:
            text = rule(text)
        if text == before:
            break
    return text
