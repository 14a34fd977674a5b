"""Cleaning, language identification and topic words agree on what a web address is (one
shared pattern, :mod:`topics._patterns`)."""

from __future__ import annotations

import pytest

from topics import _patterns
from topics.clean import remove_urls_emails
from topics.langid import detect_language
from topics.words import tokenize

ADDRESSES = [
    "https://edu.gov.kg/ky/news?id=12",
    "WWW.EDU.KG",
    "www.safe.edu.kg/",
    "info@edu.kg",
    "kabar.kg/news/2023",
    "кабар.kg",
    "europa.eu",
    "ftp://files.example.org/a.pdf",
]
NOT_ADDRESSES = ["т.б.", "e.g.", "U.S.", "2023-ж.", "мектеп.Билим", "1.5 кг."]


@pytest.mark.parametrize("address", ADDRESSES)
def test_every_stage_drops_the_same_addresses(address):
    text = f"мектептер {address} жана окуучулар"
    assert remove_urls_emails(text).split() == ["мектептер", "жана", "окуучулар"]
    assert tokenize(text) == ["мектептер", "жана", "окуучулар"]
    assert detect_language(address) == "other"  # an address alone has no language
    assert _patterns.WEB_HINT.search(address)


@pytest.mark.parametrize("text", NOT_ADDRESSES)
def test_abbreviations_are_not_addresses(text):
    assert not _patterns.WEB_ADDRESS.search(text)


def test_address_ends_before_punctuation():
    assert remove_urls_emails("сайт (www.edu.kg).") == "сайт ()."


def test_look_alike_table_is_shared():
    from topics import clean, langid

    assert clean._LAT2CYR is _patterns.LATIN_TO_CYRILLIC
    for latin, cyrillic in _patterns.LATIN_TO_CYRILLIC.items():
        assert latin.lower().translate(langid._LATIN_TO_CYR) == cyrillic.lower()


def test_the_cleaning_guard_never_skips_a_match():
    """``remove_urls_emails`` skips text without a hint; every text the full pattern matches
    has one (fuzzed with the characters the pattern is made of)."""
    import numpy as np

    from topics import clean

    rng = np.random.default_rng(0)
    alphabet = list("ab.kgru/:@w%+1 2Fэ-_") + [".kg", "www.", "://", "%2F", "+996"]
    for _ in range(3000):
        text = "".join(rng.choice(alphabet, size=int(rng.integers(1, 25))))
        if clean._URL.search(text):
            assert clean._URL_HINT.search(text), text
    samples = [f"мектеп {a} жана" for a in ADDRESSES] + [
        "тел. +996 312 123456",
        "%D0%BA%D0%B0%D0%B1",
        "кадимки текст",
    ]
    for text in samples:
        assert clean.remove_urls_emails(text) == clean._fixpoint(
            lambda t: clean._sub_lines(clean._URL, "", t), text
        )
