"""Readers that turn one file into raw text, one per supported format.

Each reader raises :class:`~topics.errors.InputFileError` with a reason code (``empty``,
``binary``, ``undecodable``, ``corrupt``, ``unsupported``, ``no-text``) and a message that says
what to do.
"""

from __future__ import annotations

import codecs
import hashlib
import io
import logging
import re
import zipfile
from pathlib import Path

from topics.errors import InputFileError

SUPPORTED_EXTENSIONS = (".txt", ".md", ".docx", ".pdf", ".html", ".htm")

_CYR = re.compile(r"[\u0400-\u04ff]")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _fail(path: Path, reason: str, message: str) -> InputFileError:
    return InputFileError(path.name, reason, message)


def _cyrillic_case_score(text: str) -> float:
    """Share of Cyrillic letters that are lowercase.

    Running text is mostly lowercase. KOI8-R bytes decoded as cp1251 (and the reverse) swap
    the case of nearly every letter, so this share tells the two code pages apart.
    """
    letters = [c for c in text if "\u0400" <= c <= "\u04ff" and c.isalpha()]
    if not letters:
        return 0.0
    lower = sum(1 for c in letters if c.islower())
    return lower / len(letters)


def decode_text(data: bytes, path: Path) -> tuple[str, str]:
    """Decode the bytes of a plain-text file, detecting its encoding.

    Tries, in order: a byte-order mark (UTF-8, UTF-16, UTF-32); strict UTF-8; UTF-16 without
    BOM (recognised by its NUL bytes); the Cyrillic code pages cp1251 and KOI8-R, told apart by
    letter case; and finally charset-normalizer.

    Parameters
    ----------
    data : bytes
        File contents.
    path : pathlib.Path
        The file, named in error messages.

    Returns
    -------
    tuple of (str, str)
        The text and the encoding's name.
    """
    decoded = _decode_bom(data, path) or _decode_utf16(data)
    if decoded is not None:
        return decoded
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    if b"\x00" in data[:4096]:
        raise _fail(
            path,
            "binary",
            "looks like a binary file (it contains NUL bytes), not text; remove it from the "
            "corpus or convert it to a supported format",
        )
    decoded = _decode_cyrillic(data) or _decode_guess(data)
    if decoded is not None:
        return decoded
    raise _fail(
        path,
        "undecodable",
        "cannot tell its text encoding (tried UTF-8, UTF-16, cp1251, KOI8-R); "
        "save it as UTF-8 and retry",
    )


def _decode_bom(data: bytes, path: Path) -> tuple[str, str] | None:
    """Text and encoding by a byte-order mark; None without one."""
    for bom, enc in (
        (codecs.BOM_UTF32_LE, "utf-32"),
        (codecs.BOM_UTF32_BE, "utf-32"),
        (codecs.BOM_UTF8, "utf-8-sig"),
        (codecs.BOM_UTF16_LE, "utf-16"),
        (codecs.BOM_UTF16_BE, "utf-16"),
    ):
        if data.startswith(bom):
            try:
                return data.decode(enc), enc
            except UnicodeDecodeError as exc:
                raise _fail(
                    path, "undecodable", f"starts with a {enc} byte-order mark but is not {enc}"
                ) from exc
    return None


def _decode_utf16(data: bytes) -> tuple[str, str] | None:
    """Text and encoding of UTF-16 without a byte-order mark; None if it does not look so.

    The high byte of every ASCII and Cyrillic character is 0x00 or 0x04, so one byte parity
    is almost all small values. (Such bytes also decode as "valid" UTF-8 control
    characters, so this check must come before UTF-8.)
    """
    sample = data[:4096]
    if len(sample) < 4:
        return None
    even = sum(b < 9 for b in sample[0::2]) / len(sample[0::2])
    odd = sum(b < 9 for b in sample[1::2]) / len(sample[1::2])
    if max(even, odd) > 0.3 and min(even, odd) < 0.05:
        enc = "utf-16-le" if odd > even else "utf-16-be"
        try:
            return data.decode(enc), enc
        except UnicodeDecodeError:
            pass
    return None


def _decode_cyrillic(data: bytes) -> tuple[str, str] | None:
    """Text and encoding as cp1251 or KOI8-R, told apart by letter case; None if neither
    gives mostly Cyrillic, mostly lowercase text.
    """
    candidates = []
    for enc in ("cp1251", "koi8_r"):
        try:
            text = data.decode(enc)
        except UnicodeDecodeError:
            continue
        if len(_CYR.findall(text)) >= 0.2 * max(1, sum(c.isalpha() for c in text)):
            candidates.append((_cyrillic_case_score(text), enc, text))
    if candidates:
        score, enc, text = max(candidates)
        if score >= 0.5:
            return text, enc
    return None


def _decode_guess(data: bytes) -> tuple[str, str] | None:
    """Text and encoding guessed by charset-normalizer; None when it finds nothing clean."""
    try:
        from charset_normalizer import from_bytes

        best = from_bytes(data).best()
    except Exception:  # charset-normalizer is a last resort; any failure means undecodable
        best = None
    if best is not None:
        text = str(best)
        if len(_CONTROL.findall(text)) <= 0.01 * max(1, len(text)):
            return text, best.encoding
    return None


def _read_plain(path: Path, data: bytes) -> tuple[str, str]:
    text, enc = decode_text(data, path)
    if len(_CONTROL.findall(text)) > 0.05 * max(1, len(text)):
        raise _fail(
            path,
            "binary",
            "looks like a binary file (many control characters), not text; remove it or "
            "convert it to a supported format",
        )
    return text, enc


def _read_docx(path: Path, data: bytes) -> tuple[str, str]:
    try:
        import docx
        from docx.opc.exceptions import PackageNotFoundError
    except ImportError as exc:  # pragma: no cover - a declared dependency
        raise ImportError("reading .docx needs python-docx: pip install python-docx") from exc
    try:
        document = docx.Document(io.BytesIO(data))
    except (PackageNotFoundError, zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise _fail(
            path,
            "corrupt",
            f"is not a valid Word .docx file ({exc.__class__.__name__}); re-save it from Word "
            "or LibreOffice as .docx (old .doc files must be converted first)",
        ) from exc
    blocks: list[str] = []
    for block in document.element.body.iterchildren():
        tag = block.tag.rsplit("}", 1)[-1]
        if tag == "p":
            blocks.append(_docx_text(block))
        elif tag == "tbl":
            for row in block.iter():
                if row.tag.endswith("}tr"):
                    cells = []
                    for cell in row.iterchildren():
                        if cell.tag.endswith("}tc"):
                            cells.append(_docx_text(cell))
                    blocks.append(" | ".join(c for c in cells if c.strip()))
    return "\n\n".join(blocks), "docx"


def _docx_text(element) -> str:
    """The text (``w:t``) of a Word XML element, in order, without the ``mc:Fallback`` copy
    of an ``mc:AlternateContent`` (a text box or shape is stored twice: once for new Word
    versions, ``mc:Choice``, once for old ones; reading both doubled its text).
    """
    parts: list[str] = []
    stack = [element]
    while stack:
        el = stack.pop()
        tag = el.tag.rsplit("}", 1)[-1] if isinstance(el.tag, str) else ""
        if tag == "Fallback":
            continue
        if tag == "t":
            parts.append(el.text or "")
        stack.extend(reversed(list(el)))
    return "".join(parts)


def _read_pdf(path: Path, data: bytes) -> tuple[str, str]:
    try:
        from pypdf import PdfReader
        from pypdf.errors import PdfReadError
    except ImportError as exc:  # pragma: no cover - a declared dependency
        raise ImportError("reading .pdf needs pypdf: pip install pypdf") from exc
    # pypdf logs what it repairs ("EOF marker not found", "Ignoring wrong pointing object")
    # to stderr without the file's name; a file it cannot read gets our warning instead.
    log = logging.getLogger("pypdf")
    level = log.level
    log.setLevel(logging.ERROR)
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            try:
                reader.decrypt("")
            except Exception as exc:
                raise _fail(
                    path, "corrupt", "is an encrypted PDF; save an unencrypted copy and retry"
                ) from exc
        pages = [page.extract_text() or "" for page in reader.pages]
    except InputFileError:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, AttributeError, OSError) as exc:
        raise _fail(
            path,
            "corrupt",
            f"is not a readable PDF ({exc.__class__.__name__}: {exc}); re-export it as PDF "
            "or convert it to .txt",
        ) from exc
    finally:
        log.setLevel(level)
    return "\n\n".join(pages), "pdf"


def _read_html(path: Path, data: bytes) -> tuple[str, str]:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(data, "lxml")
    for tag in soup(["script", "style", "noscript", "template", "svg", "head", "nav"]):
        tag.decompose()
    blocks = []
    block_tags = ["h1", "h2", "h3", "h4", "h5", "h6", "p", "li", "blockquote", "pre", "td", "th"]
    for el in soup.find_all(block_tags):
        if el.find(block_tags):
            continue  # its children are blocks of their own
        text = " ".join(el.get_text(" ").split())
        if text:
            blocks.append(text)
    if not blocks:
        body = soup.body or soup
        blocks = [" ".join(body.get_text(" ").split())]
    return "\n\n".join(blocks), "html"


_READERS = {
    ".txt": _read_plain,
    ".md": _read_plain,
    ".docx": _read_docx,
    ".pdf": _read_pdf,
    ".html": _read_html,
    ".htm": _read_html,
}


def read_document(path: Path) -> tuple[str, str, str]:
    """Read one document file.

    Parameters
    ----------
    path : pathlib.Path
        The file.

    Returns
    -------
    tuple of (str, str, str)
        Raw text, encoding or reader name, and the sha256 of the file's bytes.

    Raises
    ------
    InputFileError
        The file is of an unsupported type, empty, binary, undecodable or corrupt.
    """
    ext = path.suffix.lower()
    reader = _READERS.get(ext)
    if reader is None:
        raise _fail(
            path,
            "unsupported",
            f"unsupported file type {ext or '(no extension)'!r}; supported: "
            f"{', '.join(SUPPORTED_EXTENSIONS)}. Convert it or remove it from the corpus.",
        )
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise _fail(
            path, "unreadable", f"cannot be read ({exc.strerror}); check permissions"
        ) from exc
    digest = hashlib.sha256(data).hexdigest()
    if not data.strip():
        raise _fail(path, "empty", "is empty; remove it or add its text")
    text, encoding = reader(path, data)
    if not text.strip():
        hint = " (a scanned PDF without a text layer needs OCR first)" if ext == ".pdf" else ""
        raise _fail(path, "no-text", f"holds no text{hint}; remove it or add its text")
    return text, encoding, digest
