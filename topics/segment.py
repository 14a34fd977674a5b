"""Segment stage: split a cleaned document into articles, sections and paragraphs.

Input is the output of :func:`topics.clean.clean_document`: paragraphs separated by one blank
line. Output is one record per segment with its ``article`` number, ``section`` (``title``,
``abstract``, ``keywords``, ``body``, ``references``), ``language`` and character offsets into
the cleaned text, so that ``cleaned[start:end] == text`` always holds.

Section markers are recognised in Kyrgyz, Russian and English (``Аннотация``, ``Abstract``,
``Негизги сөздөр``, ``Ключевые слова``, ``Key words``, ``Адабияттар``, ``Литература``,
``References`` ...). Unmarked abstracts (a paragraph right before a keywords line of its own
language, in a paper's front matter) are recognised too.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

__all__ = [
    "Segment",
    "SECTIONS",
    "segment_document",
    "split_paragraphs",
    "split_sentences",
]

SECTIONS = ("title", "abstract", "keywords", "body", "references")

# An abstract is kept whole up to this length (longer "abstracts" are split like body text).
_MAX_ABSTRACT = 4000

_ABSTRACT = re.compile(
    r"^\s*(аннотация|annotation|abstract|summary|резюме|кыскача\s+мазмуну|хураангуй|"
    r"аннотатсия|фишурда)\s*[:.\-–—]?\s*",
    re.IGNORECASE,
)
_KEYWORDS = re.compile(
    r"^\s*(негизги\s+сөздөр|түйүндүү\s+сөздөр|өзөктүү\s+сөздөр|ачкыч\s+сөздөр|"
    r"ключевые\s+слова|key\s*-?\s*words|түлхүүр\s+үг(?:с)?|калидвожаҳо|вожаҳои\s+калидӣ)"
    r"\s*[:.\-–—]?\s*",
    re.IGNORECASE,
)
_REFERENCES = re.compile(
    r"^\s*(колдонулган\s+адабияттар(?:дын\s+тизмеси)?|пайдаланылган\s+адабияттар|адабияттар|"
    r"адабият|список\s+(?:использованной\s+)?литературы|использованная\s+литература|"
    r"литература|references|bibliography|ном\s+зүй|ашигласан\s+материал|адабиёт(?:ҳо)?)"
    r"\s*(?:[:.]\s*|$)",
    re.IGNORECASE,
)
# A sentence ends at . ! ? … (optionally followed by closing quotes/brackets) before a space and
# an opening quote/bracket or uppercase letter or digit. Initials (`А. Кумарасвами`) and common
# abbreviations are protected below.
_SENT_END = re.compile(r"(?<=[.!?…])[»”\"')\]]*\s+(?=[«“\"'(\[]?[A-ZА-ЯЁӨҮҢӘҒҚҰҺІӢӮҲҶ0-9])")
_ABBREV = re.compile(
    r"(?:\b[A-ZА-ЯЁӨҮҢ]|\bж\.б|\bт\.б|\bж\.у\.с|\bш|\bг|\bгг|\bт\.е|\bт\.к|\bстр|\bс|\bб|\bп|"
    r"\be\.g|\bi\.e|\betc|\bvs|\bDr|\bMr|\bMrs|\bProf|\bпроф|\bим|\bобл|\bр-н|\bул|\bд|\bнр|"
    r"\bNo|\bмлн|\bмлрд|\bтыс|\bмин|\bкв|\bжыл|\bk)\.$",
    re.IGNORECASE,
)


@dataclass
class Segment:
    """One segment of a document.

    Attributes
    ----------
    article : int
        1-based article number within the document.
    section : str
        One of :data:`SECTIONS`.
    language : str
        Language code from :mod:`topics.langid`.
    text : str
        The segment's text, equal to ``cleaned[start:end]``.
    start, end : int
        Character offsets into the cleaned document.
    """

    article: int
    section: str
    language: str
    text: str
    start: int
    end: int


def split_paragraphs(text: str) -> list[tuple[int, int]]:
    """Return ``(start, end)`` offsets of the blank-line separated paragraphs of ``text``."""
    spans = []
    for m in re.finditer(r"[^\n]+(?:\n(?!\s*\n)[^\n]*)*", text):
        s, e = m.start(), m.end()
        while s < e and text[s].isspace():
            s += 1
        while e > s and text[e - 1].isspace():
            e -= 1
        if e > s:
            spans.append((s, e))
    return spans


def split_sentences(text: str, start: int = 0) -> list[tuple[int, int]]:
    """Split ``text`` into sentence spans ``(start, end)`` (offsets shifted by ``start``).

    Splits after ``. ! ? …`` followed by whitespace and an uppercase letter, digit or opening
    quote, except after initials and common abbreviations (``ж.б.``, ``г.``, ``e.g.``).
    """
    spans = []
    pos = 0
    for m in _SENT_END.finditer(text):
        head = text[pos : m.start()]
        tail = head[-12:]
        if _ABBREV.search(tail.rstrip("»”\"')]")):
            continue
        if m.start() > pos:
            spans.append((start + pos, start + m.start()))
        pos = m.end()
    if pos < len(text):
        end = len(text.rstrip())
        if end > pos:
            spans.append((start + pos, start + end))
    return spans


def _is_caps_title(text: str) -> bool:
    letters = [c for c in text if c.isalpha()]
    if len(letters) < 4 or len(text) > 300:
        return False
    upper = sum(1 for c in letters if c.isupper())
    return upper / len(letters) >= 0.85


def _looks_like_title(text: str) -> bool:
    if _is_caps_title(text):
        return True
    words = text.split()
    return 1 <= len(words) <= 14 and not re.search(r"[.!?:;,]$", text.rstrip("»”\"' "))


def _marker(text: str) -> tuple[str | None, int]:
    for name, rx in (
        ("abstract", _ABSTRACT),
        ("keywords", _KEYWORDS),
        ("references", _REFERENCES),
    ):
        m = rx.match(text)
        if m:
            return name, m.end()
    return None, 0


def _split_long(text: str, start: int, max_chars: int) -> list[tuple[int, int]]:
    """Split a long paragraph at sentence boundaries into chunks of at most ~max_chars."""
    if len(text) <= max_chars:
        return [(start, start + len(text))]
    sentences = split_sentences(text, start)
    if len(sentences) <= 1:
        return [(start, start + len(text))]
    n_chunks = -(-len(text) // max_chars)
    target = len(text) / n_chunks
    chunks: list[tuple[int, int]] = []
    cur_s, cur_e = sentences[0]
    for s, e in sentences[1:]:
        if cur_e - cur_s >= target * 0.9 or (e - cur_s) > max_chars:
            chunks.append((cur_s, cur_e))
            cur_s = s
        cur_e = e
    chunks.append((cur_s, cur_e))
    return chunks


def segment_document(
    cleaned: str,
    detect: Callable[[str], str],
    *,
    max_chars: int = 1200,
    min_chars: int = 60,
) -> list[Segment]:
    r"""Segment one cleaned document.

    Parameters
    ----------
    cleaned : str
        Text from :func:`topics.clean.clean_document` (paragraphs separated by blank lines).
    detect : callable
        ``detect(text) -> language code`` (normally :func:`topics.langid.detect_language`).
    max_chars : int, default 1200
        Paragraphs longer than this are split at sentence boundaries into chunks of about
        equal size (so each fits the embedding model's window); no sentence is cut. An
        abstract (all its paragraphs in one language, one segment) is split only beyond
        4,000 characters.
    min_chars : int, default 60
        Body fragments shorter than this (a dateline, a stray heading) are merged into the
        following body paragraph of the same article, or the previous one at the end.

    Returns
    -------
    list of Segment
        Segments in document order; ``cleaned[s.start:s.end] == s.text`` for each.

    Examples
    --------
    >>> segs = segment_document("TITLE OF PAPER\\n\\nAbstract: Short.", lambda t: "en")
    >>> [(s.section, s.text) for s in segs]
    [('title', 'TITLE OF PAPER'), ('abstract', 'Short.')]
    """
    paras = split_paragraphs(cleaned)
    items = []  # (start, end, marker, marker_len, language)
    for s, e in paras:
        text = cleaned[s:e]
        marker, mlen = _marker(text)
        items.append([s, e, marker, mlen, detect(text[mlen:] or text)])
    records = _sections(cleaned, items, min_chars)
    records = _join_abstracts(_merge_fragments(records, min_chars))
    return _split_records(cleaned, records, detect, max_chars)


def _sections(cleaned: str, items: list[list], min_chars: int) -> list[dict]:
    """Article number, section and span of every paragraph (a front -> body -> references
    state machine per article); ``items`` are ``[start, end, marker, marker_len, language]``.
    """
    n = len(items)
    out: list[dict] = []
    article = 1
    state = "front"  # front -> body -> references
    seen_content = False  # any non-title paragraph in the current article
    prev_abstract_lang: str | None = None

    def upcoming_marker(i: int, lang: str, window: int = 4) -> str | None:
        """The next marker within ``window`` paragraphs, skipping same-language text."""
        for j in range(i + 1, min(n, i + 1 + window)):
            if items[j][2] is not None:
                return items[j][2]
            if items[j][4] != lang:
                return None
        return None

    def title_block_starts_article(i: int) -> bool:
        """A caps title followed by titles and then an abstract/keywords marker."""
        for j in range(i + 1, min(n, i + 7)):
            text = cleaned[items[j][0] : items[j][1]]
            if items[j][2] in ("abstract", "keywords"):
                return True
            if not _is_caps_title(text):
                return False
        return False

    for i, (s, e, marker, mlen, lang) in enumerate(items):
        text = cleaned[s:e]
        if (
            marker is None
            and _is_caps_title(text)
            and seen_content
            and (state == "references" or title_block_starts_article(i))
        ):
            article += 1
            state, seen_content, prev_abstract_lang = "front", False, None
        if marker == "references":
            section = "references"
            state = "references"
        elif state == "references":
            section = "references"
        elif marker == "abstract":
            section, prev_abstract_lang = "abstract", lang
            state = "front"
        elif marker == "keywords":
            section = "keywords"
        elif state == "front":
            nxt = upcoming_marker(i, lang)
            if not seen_content and _looks_like_title(text) and nxt != "keywords":
                section = "title"
            elif nxt == "keywords" or (
                prev_abstract_lang == lang and nxt == "abstract" and len(text) > min_chars
            ):
                section = "abstract"
            else:
                section, state = "body", "body"
        else:
            section = "body"
        if section != "title":
            seen_content = True
        seg_start = s + mlen if mlen and mlen < e - s else s
        while seg_start < e and cleaned[seg_start].isspace():
            seg_start += 1
        out.append(
            {"article": article, "section": section, "language": lang, "start": seg_start, "end": e}
        )
    return out


def _merge_fragments(out: list[dict], min_chars: int) -> list[dict]:
    """Merge tiny body fragments into the next body paragraph of the same article (or the
    previous one): spans are contiguous in the cleaned text, so offsets stay exact.
    """
    merged: list[dict] = []
    pending: dict | None = None
    for rec in out:
        if pending is not None:
            if rec["section"] == "body" and rec["article"] == pending["article"]:
                rec = {**rec, "start": pending["start"]}
            else:
                merged.append(pending)
            pending = None
        if rec["section"] == "body" and rec["end"] - rec["start"] < min_chars:
            pending = rec
            continue
        merged.append(rec)
    if pending is not None:
        if (
            merged
            and merged[-1]["section"] == "body"
            and merged[-1]["article"] == pending["article"]
        ):
            merged[-1]["end"] = pending["end"]
        else:
            merged.append(pending)
    return merged


def _join_abstracts(merged: list[dict]) -> list[dict]:
    """One abstract per language and article: its paragraphs become one segment, so a
    trilingual abstract is three segments (they are contiguous, so offsets stay exact).
    """
    joined: list[dict] = []
    for rec in merged:
        last = joined[-1] if joined else None
        if (
            last is not None
            and rec["section"] == "abstract" == last["section"]
            and rec["article"] == last["article"]
            and rec["language"] == last["language"]
        ):
            last["end"] = rec["end"]
            continue
        joined.append(dict(rec))
    return joined


def _split_records(
    cleaned: str, joined: list[dict], detect: Callable[[str], str], max_chars: int
) -> list[Segment]:
    """The segments: long body paragraphs and abstracts split at sentence boundaries."""
    segments: list[Segment] = []
    for rec in joined:
        text = cleaned[rec["start"] : rec["end"]]
        limit = {"body": max_chars, "abstract": max(max_chars, _MAX_ABSTRACT)}
        spans = (
            _split_long(text, rec["start"], limit[rec["section"]])
            if rec["section"] in limit
            else [(rec["start"], rec["end"])]
        )
        for s, e in spans:
            piece = cleaned[s:e]
            language = rec["language"] if len(spans) == 1 else detect(piece)
            segments.append(Segment(rec["article"], rec["section"], language, piece, s, e))
    return segments
