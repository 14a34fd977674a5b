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

import re
import unicodedata
from collections.abc import Callable, Iterable

from topics import _patterns
from topics._layout import _fixpoint, _script, dehyphenate, join_lines

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
    text = text.translate({ord(c): m for c in set(text) if (m := _char_map(c)) != c})
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

_LAT2CYR = _patterns.LATIN_TO_CYRILLIC
_CYR2LAT = {v: k for k, v in _LAT2CYR.items()}
_CYR2LAT.update({"і": "i", "ј": "j", "ѕ": "s", "І": "I", "Ј": "J", "Ѕ": "S"})
_LETTERS = re.compile(r"[^\W\d_]+")
_CODE_TOKEN = re.compile(r"://|www\.|@|[\w.-]+\.[a-z]{2,4}\b|_|\d")


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
    _patterns.WEB_ADDRESS.pattern
    + r"|\S*(?:%[0-9A-Fa-f]{2}){3,}\S*"
    + r"|\+\d{1,3}(?:[ ()-]{0,2}\d){6,12}\b",
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
    if not _URL_HINT.search(text):  # nothing _URL could match: skip the scan
        return text
    return _fixpoint(lambda t: _sub_lines(_URL, "", t), text)


# Every alternative of _URL contains one of these.
_URL_HINT = re.compile(_patterns.WEB_HINT.pattern + r"|%[0-9A-Fa-f]{2}|\+\d", re.IGNORECASE)


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
