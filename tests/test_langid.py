from __future__ import annotations

import csv
import os
from pathlib import Path

import pytest

from topics.langid import LANGUAGES, MIN_LETTERS, detect_language, language_scores

EVAL = Path(
    os.environ.get("TOPICS_EVAL_DIR", Path(__file__).resolve().parents[2] / "shared" / "eval")
)
SIB = EVAL / "sib200"

# Own sentences (not from SIB-200/FLORES), education domain and everyday.
SENTENCES = {
    "ky": [
        "Кыргызстанда билим берүү системасы акыркы жылдары олуттуу өзгөрүүлөргө учурады.",
        "Мугалимдер аралыктан окутуу учурунда көптөгөн кыйынчылыктарга туш болушкан.",
        "Бул макалада жогорку окуу жайларындагы санариптик технологиялардын ролу каралат.",
        "Окуучулар мектепке күн сайын барышат жана үйдө тапшырмаларды аткарышат.",
        "Ата-энелер балдарынын билим алуусуна көбүрөөк көңүл бурушу керек.",
    ],
    "ru": [
        "Дистанционное обучение в вузах Кыргызстана во время пандемии.",
        "В статье рассматриваются проблемы качества высшего образования.",
        "Учителя отметили, что ученики стали реже посещать занятия.",
        "Родители должны уделять больше внимания образованию своих детей.",
    ],
    "en": [
        "Distance learning in Kyrgyz universities during the pandemic.",
        "The survey shows that teachers need more training in digital tools.",
        "Parents should pay more attention to the education of their children.",
    ],
    "mn": [
        "Монгол Улсын боловсролын салбарт томоохон өөрчлөлт гарч байна.",
        "Багш нар зайн сургалтыг амжилттай зохион байгуулсан юм.",
        "Энэ судалгаа нь сургуулийн орчны аюулгүй байдлыг үнэлэх зорилготой.",
        "Хүүхдүүд өдөр бүр сургуульдаа явдаг бөгөөд гэрийн даалгавраа хийдэг.",
    ],
    "tg": [
        "Дар Тоҷикистон таҳсилоти фосилавӣ босуръат рушд мекунад.",
        "Омӯзгорон бо истифода аз технологияҳои нав дарс мегузаранд.",
        "Ин тадқиқот ба беҳтар намудани сифати таълим равона шудааст.",
        "Падару модарон бояд ба таҳсили фарзандони худ бештар диққат диҳанд.",
    ],
    "kk": [
        "Қазақстанда білім беру жүйесі соңғы жылдары айтарлықтай өзгерді.",
        "Мұғалімдер қашықтықтан оқыту кезінде көптеген қиындықтарға тап болды.",
        "Бұл мақалада жоғары оқу орындарындағы цифрлық технологиялардың рөлі қарастырылады.",
    ],
}


@pytest.mark.parametrize(
    ("lang", "text"), [(lang, t) for lang, ts in SENTENCES.items() for t in ts]
)
def test_sentences(lang, text):
    assert detect_language(text) == lang


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", "other"),
        ("   \n\t ", "other"),
        ("12345 67,8 — 2021", "other"),
        ("https://www.example.com/path/to/page?x=1&y=2", "other"),
        ("news.un.org/ru/story/2021/08/1408852 12", "other"),
        ("№ 5", "other"),
        ("x", "other"),
    ],
)
def test_no_letters_is_other(text, expected):
    assert detect_language(text) == expected
    assert language_scores(text)["other"] == 1.0


def test_mixed_kyrgyz_paragraph_with_russian_quote():
    text = (
        "Автордун пикири боюнча, аралыктан окутуу жогорку окуу жайларынын ишмердүүлүгүн "
        "түп-тамырынан өзгөрттү. Министрликтин буйругунда мындай деп жазылган: «Обучение "
        "проводится с применением дистанционных образовательных технологий». Бирок көптөгөн "
        "студенттердин интернетке жетүү мүмкүнчүлүгү жок болгондуктан, бул талап толук "
        "аткарылган эмес (https://edu.gov.kg, 2021-ж., 15-б.)."
    )
    assert detect_language(text) == "ky"


def test_russian_paragraph_citing_kyrgyz_title():
    text = (
        "В работе проанализированы документы министерства, в том числе программа "
        "«Билим берүүнү өнүктүрүү программасы» на 2021–2040 годы, и показано, что "
        "дистанционное обучение требует новых подходов к подготовке преподавателей."
    )
    assert detect_language(text) == "ru"


def test_kyrgyz_with_english_abbreviations_and_numbers():
    text = "2020-жылы COVID-19 пандемиясынын учурунда ЖОЖдор Zoom, Google Meet жана MOOC "
    text += "платформаларын колдонуп, 85% студенттер онлайн окууга өтүштү."
    assert detect_language(text) == "ky"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Негизги сөздөр: билим берүү, санариптик технологиялар, сапат.", "ky"),
        ("Ключевые слова: дистанционное обучение, высшее образование.", "ru"),
        ("Keywords: distance learning, higher education, COVID-19, Kyrgyzstan", "en"),
        ("Key words: e-learning, MOOC, digital competence", "en"),
    ],
)
def test_keywords_lines(text, expected):
    assert detect_language(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ЭЛ АРАЛЫК БАЙЛАНЫШТАРДЫН БИЛИМ САПАТЫНА ТИЙГИЗГЕН ТААСИРИ", "ky"),
        ("ВЛИЯНИЕ МЕЖДУНАРОДНЫХ СВЯЗЕЙ НА КАЧЕСТВО ОБРАЗОВАНИЯ", "ru"),
        ("THE INFLUENCE OF INTERNATIONAL RELATIONS ON THE QUALITY OF EDUCATION", "en"),
        ("КЫРГЫЗСТАНДАГЫ ЗАМАНБАП БИЛИМ БЕРҮҮНҮН ТЕНДЕНЦИЯЛАРЫ", "ky"),
        ("Билим берүү", "ky"),
        ("Дистанционное обучение", "ru"),
    ],
)
def test_titles_and_caps(text, expected):
    assert detect_language(text) == expected


def test_defect_letter_for_u_still_kyrgyz():
    # Seed 004 prints every ү as ҥ (a font-mapping fault).
    good = "Билим берүү системасында олуттуу өзгөрүүлөрдү пайда кылган дүйнөлүк тенденциялар."
    bad = good.replace("ү", "ҥ").replace("Ү", "Ҥ")
    assert bad != good
    assert detect_language(bad) == detect_language(good) == "ky"
    assert language_scores(bad) == language_scores(good)


def test_latin_lookalike_inside_cyrillic_word():
    # A Latin "C" typed in a Russian word must not make the sentence Latin.
    assert detect_language("Cегодня научно-технические достижения системы образования") == "ru"


def test_decomposed_letters_are_composed():
    # "ӣ" and "ӯ" as base letter + combining macron (as some PDF extractors give them).
    text = "Омӯзгорони мактабҳои миллӣ дар ин барнома иштирок мекунанд."
    decomposed = text.replace("ӯ", "у\u0304").replace("ӣ", "и\u0304")
    assert decomposed != text
    assert detect_language(decomposed) == "tg"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Биз бул маселени талкуладык.", "ky"),
        ("Ал китеп окуп жатат.", "ky"),
        ("Тэр ном уншиж байна.", "mn"),
        ("Ман китоб мехонам.", "tg"),
        ("Донишчуён дар донишгох тахсил мекунанд.", "tg"),
        ("Мы обсудили эту проблему.", "ru"),
    ],
)
def test_without_special_letters(text, expected):
    # Short sentences with none of ң ө ү ҳ ҷ ӣ ӯ: function words and endings decide.
    assert detect_language(text) == expected


def test_other_latin_language():
    assert detect_language("Der Unterricht fand in der Schule über das Internet statt.") == "other"
    assert detect_language("Les enseignants sont formés pour une école numérique.") == "other"


def test_other_cyrillic_language():
    assert detect_language("Учні та вчителі працюють онлайн, що є новим досвідом.") == "other"


def test_scores_are_shares_and_agree_with_detect():
    for lang, texts in SENTENCES.items():
        for text in texts:
            scores = language_scores(text)
            assert set(scores) == set(LANGUAGES)
            assert all(v >= 0 for v in scores.values())
            assert sum(scores.values()) == pytest.approx(1.0)
            assert max(scores, key=scores.get) == lang == detect_language(text)


def test_min_letters_boundary_and_best_guess():
    assert detect_language("a" * (MIN_LETTERS - 1)) == "other"
    assert detect_language("5 " + "я" * (MIN_LETTERS - 1)) == "other"
    # Letters but no evidence: the documented best guess per script.
    assert detect_language("zq" * MIN_LETTERS) == "en"
    assert detect_language("зз" * MIN_LETTERS) == "ru"
    assert language_scores("зз" * MIN_LETTERS)["ru"] == 1.0


def test_type_error_message():
    with pytest.raises(TypeError, match="expects a str"):
        detect_language(None)  # type: ignore[arg-type]


def test_dominant_language_wins_by_amount():
    ky = SENTENCES["ky"][0]
    ru = SENTENCES["ru"][1]
    assert detect_language(" ".join([ky, ky, ky, ru])) == "ky"
    assert detect_language(" ".join([ru, ru, ru, ky])) == "ru"


def _read_sib(folder: str) -> list[str]:
    texts: list[str] = []
    for split in ("train", "dev", "test"):
        with (SIB / folder / f"{split}.tsv").open(encoding="utf-8", newline="") as fh:
            texts += [row["text"] for row in csv.DictReader(fh, delimiter="\t")]
    return texts


@pytest.mark.slow
@pytest.mark.skipif(not SIB.is_dir(), reason=f"evaluation data not found at {SIB}")
@pytest.mark.parametrize(
    ("folder", "lang"),
    [
        ("kir_Cyrl", "ky"),
        ("khk_Cyrl", "mn"),
        ("tgk_Cyrl", "tg"),
        ("rus_Cyrl", "ru"),
        ("eng_Latn", "en"),
    ],
)
def test_sib200_accuracy(folder, lang):
    texts = _read_sib(folder)
    assert len(texts) == 1004
    accuracy = sum(detect_language(t) == lang for t in texts) / len(texts)
    assert accuracy >= 0.98, f"{folder}: accuracy {accuracy:.4f}"
