"""Text patterns shared by the stages, defined once.

Web addresses (URLs, bare domains of the region's and the common top-level domains, e-mail
addresses) are removed by :mod:`topics.clean` from the text, and ignored by
:mod:`topics.langid` (a URL says nothing about the paragraph's language) and by
:mod:`topics.words` (never a topic word) in text that was not cleaned; the three use the same
pattern, so they agree on what an address is. Latin letters that look like Cyrillic ones
(``C`` in ``Cегодня``) are repaired by :mod:`topics.clean` and read as Cyrillic by
:mod:`topics.langid` from the same table.
"""

from __future__ import annotations

import re

#: Top-level domains recognised in bare domains (``edu.gov.kg``) without ``http://``/``www.``.
TLDS = ("kg", "ru", "kz", "tj", "uz", "mn", "com", "org", "net", "edu", "gov", "int", "info",
        "eu", "io", "uk")  # fmt: skip

_BODY = r"[^\s<>\"«»“”]*"
_LAST = r"[^\s<>\"«»“”.,;:!?)\]}'’]"  # an address does not end in punctuation
_TLD = "(?:" + "|".join(TLDS) + ")"

#: A URL, an e-mail address or a bare domain (with its path).
WEB_ADDRESS = re.compile(
    rf"(?:\b(?:https?|ftp)://|\bwww\.){_BODY}{_LAST}"
    r"|\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+"
    rf"|\b[\w-]+(?:\.[\w-]+)*\.{_TLD}\b(?:/(?:{_BODY}{_LAST})?)?",
    re.IGNORECASE,
)

#: A cheap test: text without a match of this has no :data:`WEB_ADDRESS` either.
WEB_HINT = re.compile(rf"://|www\.|@|\.{_TLD}\b", re.IGNORECASE)

#: Latin capitals and small letters that look like Cyrillic ones, and those Cyrillic letters.
LATIN_TO_CYRILLIC = dict(zip("ABCEHKMOPTXYaceopxy", "АВСЕНКМОРТХУасеорху", strict=True))
