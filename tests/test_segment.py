from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from topics.segment import segment_document, split_paragraphs, split_sentences


def fake_detect(text: str) -> str:
    if re.search(r"[a-zA-Z]{3}", text) and not re.search(r"[а-яА-Я]", text):
        return "en"
    if re.search(r"[өүң]|ттык|макала", text, re.IGNORECASE):
        return "ky"
    return "ru"


KY_ABS = (
    "Макалада дистанттык окутуу технологиясынын келип чыгуу тарыхы, азыркы учурдагы "
    "актуалдуулугу жана мүмкүнчүлүктөрү каралган."
)
RU_ABS = "В статье рассматривается история возникновения технологии дистанционного обучения."
EN_ABS = "The article discusses the history of the emergence of distance learning technology."
KY_BODY = (
    "Азыркы учурдагы интернет желеси аркылуу таралып жаткан маалыматтар менен катар "
    "колдонуу мүмкүнчүлүктөр дагы артыкчылыкка ээ болууда."
)

PAPER = "\n\n".join(
    [
        "ДИСТАНТТЫК ОКУТУУНУН АРТЫКЧЫЛЫКТАРЫ",
        "ПРЕИМУЩЕСТВА ДИСТАНЦИОННОГО ОБУЧЕНИЯ",
        "BENEFITS OF DISTANCE LEARNING",
        "Аннотация: " + KY_ABS,
        "Аннотация: " + RU_ABS,
        "Abstract: " + EN_ABS,
        "Түйүндүү сөздөр: дистанттык окутуу, интернет",
        "Ключевые слова: дистанционное обучение, интернет",
        "Key words: distance learning, Internet",
        KY_BODY,
        KY_BODY.replace("Азыркы", "Ошондуктан"),
        "Колдонулган адабияттар:",
        "1. Иванов И. И. Дистанционное обучение. – М., 2020.",
        "ЭКИНЧИ МАКАЛАНЫН АТАЛЫШЫ",
        "Аннотация: " + KY_ABS,
        KY_BODY,
    ]
)


def test_sections_articles_languages_of_a_paper():
    segs = segment_document(PAPER, fake_detect)
    got = [(s.article, s.section, s.language) for s in segs]
    assert got[:9] == [
        (1, "title", "ky"),
        (1, "title", "ru"),
        (1, "title", "en"),
        (1, "abstract", "ky"),
        (1, "abstract", "ru"),
        (1, "abstract", "en"),
        (1, "keywords", "ky"),
        (1, "keywords", "ru"),
        (1, "keywords", "en"),
    ]
    assert [s.section for s in segs[9:13]] == ["body", "body", "references", "references"]
    assert [(s.article, s.section) for s in segs[13:]] == [
        (2, "title"),
        (2, "abstract"),
        (2, "body"),
    ]
    # the marker is not part of the segment text, and offsets are exact
    assert segs[3].text == KY_ABS
    for s in segs:
        assert PAPER[s.start : s.end] == s.text


def test_unmarked_abstracts_before_keywords():
    text = "\n\n".join(
        [
            KY_ABS,
            "Негизги сөздөр: Кыргызстан, билим берүү.",
            RU_ABS,
            "Ключевые слова: Кыргызстан, образование.",
            EN_ABS,
            "Key words: Kyrgyzstan, education.",
            KY_BODY,
        ]
    )
    segs = segment_document(text, fake_detect)
    assert [s.section for s in segs] == [
        "abstract",
        "keywords",
        "abstract",
        "keywords",
        "abstract",
        "keywords",
        "body",
    ]
    assert [s.language for s in segs if s.section == "abstract"] == ["ky", "ru", "en"]


def test_tiny_fragment_merged_into_next_paragraph():
    text = KY_BODY + "\n\nОш ш., 2019-жылдын 14 июну\n\n" + KY_BODY
    segs = segment_document(text, fake_detect, min_chars=60)
    assert [s.section for s in segs] == ["body", "body"]
    assert segs[1].text.startswith("Ош ш., 2019-жылдын 14 июну") and KY_BODY in segs[1].text


def test_long_paragraph_split_at_sentence_boundaries_keeps_sentences_whole():
    sentences = [f"Бул {i}-сүйлөм мектептеги билим берүү жөнүндө айтат." for i in range(60)]
    para = " ".join(sentences)
    segs = segment_document(para, fake_detect, max_chars=400)
    assert len(segs) > 1
    assert all(len(s.text) <= 400 for s in segs)
    for sent in sentences:
        assert sum(sent in s.text for s in segs) == 1
    assert " ".join(s.text for s in segs) == para


def test_split_sentences_respects_initials_and_abbreviations():
    text = "Термин А. Кумарасвами тарабынан киргизилген. Мектеп, окуучу ж.б. Экинчи сүйлөм."
    spans = split_sentences(text)
    parts = [text[s:e] for s, e in spans]
    assert parts[0] == "Термин А. Кумарасвами тарабынан киргизилген."
    assert len(parts) == 2


def test_split_paragraphs_offsets():
    text = "\n a \n\n\n b\nc \n\n"
    assert [text[s:e] for s, e in split_paragraphs(text)] == ["a", "b\nc"]


@settings(max_examples=150, deadline=None)
@given(st.lists(st.text(alphabet="абвгөүң ABC.,:!?\n 12-", min_size=0, max_size=120), max_size=12))
def test_segments_are_exact_slices_and_cover_all_words(paras):
    text = "\n\n".join(paras)
    segs = segment_document(text, fake_detect, max_chars=80, min_chars=10)
    covered = []
    for s in segs:
        assert text[s.start : s.end] == s.text
        assert s.section in ("title", "abstract", "keywords", "body", "references")
        covered.append((s.start, s.end))
    # segments don't overlap and appear in order
    for (_s1, e1), (s2, _e2) in zip(covered, covered[1:], strict=False):
        assert e1 <= s2
    # every word of the text is inside some segment (markers excepted)
    joined = " ".join(s.text for s in segs)
    for word in re.findall(r"[а-яөүңA-Z0-9]{4,}", text):
        if word.lower() not in ("abstract",):
            assert word in joined
