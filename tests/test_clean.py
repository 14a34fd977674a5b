from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from topics import clean
from topics.clean import (
    RULES,
    clean_document,
    dehyphenate,
    fix_kyrgyz_u,
    fix_mixed_script,
    join_lines,
    normalize_unicode,
    remove_conversion_artifacts,
    remove_footnote_markers,
    remove_page_numbers,
    remove_urls_emails,
)
from topics.segment import split_paragraphs

SEEDS = Path(__file__).resolve().parents[1] / "seeds"
SEED_FILES = {p.name[:3]: p for p in sorted(SEEDS.glob("0*.txt"))}


def seed(key: str) -> str:
    return SEED_FILES[key].read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def cleaned() -> dict[str, str]:
    return {key: clean_document(seed(key)) for key in SEED_FILES}


def words(text: str) -> list[str]:
    return re.findall(r"\w+", text)


# ----------------------------------------------------------------------------- rule table


def test_rules_table_lists_every_rule_in_order():
    names = [name for name, _ in RULES]
    assert names == [
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
    for name, fn in RULES:
        assert fn is getattr(clean, name) and name in clean.__all__


def test_rules_can_be_chosen_and_skipped():
    text = "Билим берҥҥ \n\nжана берҥҥ."
    assert clean_document(text) == "Билим берүү жана берүү."
    assert "ҥ" in clean_document(text, skip={"fix_kyrgyz_u"})
    assert clean_document(text, rules=["fix_kyrgyz_u"]) == "Билим берүү \n\nжана берүү."
    assert clean_document(text, rules=[fix_kyrgyz_u, ("join", join_lines)]) == (
        "Билим берүү жана берүү."
    )


def test_bad_arguments_give_clear_errors():
    with pytest.raises(ValueError, match="unknown cleaning rule 'nope'"):
        clean_document("x", rules=["nope"])
    with pytest.raises(ValueError, match="unknown rule name"):
        clean_document("x", skip=["nope"])
    with pytest.raises(TypeError, match="expects text as str"):
        clean_document(b"x")  # type: ignore[arg-type]


# ----------------------------------------------------------------------------- rules


def test_normalize_unicode():
    raw = "Пресса\u00a0үчүн\u200b  бай\u00adланыш\r\nмаалымат\ttel\x07\ufeff\r"
    assert normalize_unicode(raw) == "Пресса үчүн байланыш\nмаалымат tel\n"
    assert normalize_unicode("educa\u00ad\n\ntion") == "education"
    assert normalize_unicode("\uf0b7 Эл аралык") == "• Эл аралык"
    assert normalize_unicode("е\u0301") == "\u0435\u0301"  # NFC keeps what has no composite
    assert normalize_unicode("line \n \nnext") == "line \n \nnext"  # layout spaces kept


def test_fix_kyrgyz_u_on_the_font_fault_of_seed_004():
    snippet = "Аннотация: Билим берҥҥ системасында олуттуу өзгөрҥҥлөрдҥ пайда кылган дҥйнөлҥк"
    assert fix_kyrgyz_u(snippet) == (
        "Аннотация: Билим берүү системасында олуттуу өзгөрүүлөрдү пайда кылган дүйнөлүк"
    )
    assert fix_kyrgyz_u("Ҥч мамлекет") == "Үч мамлекет"


def test_fix_kyrgyz_u_leaves_real_text_alone():
    real = "деңгээли өсүп жаткан дүйнөдө, жаңы талаптар"  # ң and ү are both real
    assert fix_kyrgyz_u(real) == real
    # ҥ rarer than ү: no font fault, leave it
    mixed = "үү үү үү үү үү ҥ"
    assert fix_kyrgyz_u(mixed) == mixed


def test_fix_mixed_script():
    assert fix_mixed_script("Cегодня научно-технические") == "Сегодня научно-технические"
    assert fix_mixed_script("Кореяда Cyber Ноmе Learning") == "Кореяда Cyber Home Learning"
    assert fix_mixed_script("Cегодня")[0] == "\u0421"  # Cyrillic Es, not Latin C


@pytest.mark.parametrize(
    "token",
    ["KIX EAPтын", "COVIDдун", "https://www.gpekix.org/", "_1fob9te", "ab12вг", "Сoo", "Ош"],
)
def test_fix_mixed_script_leaves_genuinely_mixed_tokens(token):
    assert fix_mixed_script(token) == token


def test_remove_conversion_artifacts_seed_001():
    raw = (
        "[bookmark: _1fob9te]“Долбоордун алкагында окутуу-усулдук куралды түзүү\n"
        "[bookmark: _2et92p0]\n"
        "Пресс-конференцияда\n"
        "\t  [image: https://lh4.googleusercontent.com/PXiiEt3-MSEp-ipdkaHye6]\n"
        "This project"
    )
    out = remove_conversion_artifacts(raw)
    assert out == (
        "“Долбоордун алкагында окутуу-усулдук куралды түзүү\nПресс-конференцияда\nThis project"
    )
    assert remove_conversion_artifacts("a\n_______ \nb") == "a\n\nb"


def test_remove_conversion_artifacts_keeps_citations_and_brackets():
    text = "деп белгиленет [1]. Тенденция (немец. tendent) [image] [bookmark]"
    assert remove_conversion_artifacts(text) == text


def test_remove_urls_emails_seed_snippets():
    assert remove_urls_emails("GRE/KIX https://www.gpekix.org/ программасынын") == (
        "GRE/KIX программасынын"
    )
    assert remove_urls_emails("телефон: +996 500 241092 kanatkubatbekov@gmail.com") == "телефон:"
    assert remove_urls_emails("маалымат расмий сайтта www.safe.edu.kg жеткиликтүү.") == (
        "маалымат расмий сайтта жеткиликтүү."
    )
    junk = "Колдонулган адабияттар:\n1. http://cbd.minjust.gov.kg/act/view/ky-kg/158227\n"
    junk += " B9%D0%BB%D0%B0%D0%BD%D1%8B%D1%88%D1%82%D0%B0%D1%80\n ДИСТАНТТЫК"
    assert remove_urls_emails(junk) == "Колдонулган адабияттар:\n ДИСТАНТТЫК"


def test_remove_urls_emails_keeps_ordinary_text():
    text = "5,92% түзөт, 31%га чейин, ж.б. маселелер (IDRC, Канада) 1.6 млрд"
    assert remove_urls_emails(text) == text


def test_remove_page_numbers():
    raw = "ыңгайлашууга \n\n26 \n\nмүмкүнчүлүк\n- 12 -\nPage 3\n3 бет\nтекст"
    assert remove_page_numbers(raw) == "ыңгайлашууга \n\n\nмүмкүнчүлүк\nтекст"


def test_remove_page_numbers_keeps_numbered_and_dated_lines():
    text = "1.\n2021-жылы\n24-25 ИЮЛЬ 2021 | БИШКЕК\n№ 201.\n5.1\n2021"
    assert remove_page_numbers(text) == text


def test_remove_footnote_markers():
    assert remove_footnote_markers("1.6 млрд окуучу аргасыз аралыктан окутууга өттү .1\n") == (
        "1.6 млрд окуучу аргасыз аралыктан окутууга өттү.\n"
    )
    assert remove_footnote_markers("маанилүү сөз1. Кийинки") == "маанилүү сөз. Кийинки"
    assert remove_footnote_markers("сөз² жана") == "сөз жана"


@pytest.mark.parametrize(
    "text",
    [
        "2021-жылы өткөрүлгөн",
        "168 өлкөдөгү 1.6 млрд",
        "бөлүм 5.1 боюнча",
        "COVID-19 пандемиясы",
        "1 UNICEF, 2021, жыл",
        "2. Кыргыз Республикасынын Өкмөтү",
        "деп белгиленет [1].",
        "(№354) кабыл алган",
        "ст.1 боюнча",
        '"Ишкер24" тиркемесин',
        "Парк 19 500 км² аянтка",
        "covers 3,850 km² of land",
    ],
)
def test_remove_footnote_markers_keeps_real_numbers(text):
    assert remove_footnote_markers(text) == text


def test_dehyphenate_seed_002_line_breaks():
    raw = (
        "Бүгүнкү шарттарда дүйнө жүзүндөгү, анын ичинде Кыр-\n\n"
        "гызстандагы билим берүү тармагындагы илимий-техникалык \n\n"
        "жетишкендиктер, жаш, жогорку квалификациядагы адис-\n\n"
        "терди даярдоодо. Кыргызстан. Өкмөтү 2011-жылы 23-\n\n"
        "августта кабыл алган. Ал-\n\nбетте. Албетте."
    )
    out = dehyphenate(raw)
    assert "Кыргызстандагы\n\nбилим" in out
    assert "адистерди\n\nдаярдоодо" in out
    assert "23-августта" in out
    assert "Албетте." in out
    assert "илимий-техникалык" in out


def test_dehyphenate_keeps_real_compounds():
    # hyphenated form seen elsewhere in the document: keep the hyphen
    raw = "онлайн-ресурстарды иштеп, ата-энелер, окуу-усулдук; окуу-\nусулдук иш, веб-\nконференция"
    out = dehyphenate(raw)
    assert "окуу-усулдук\nиш" in out and "веб-конференция" in out
    assert dehyphenate("Улан-\nБатор") == "Улан-Батор"
    assert dehyphenate("2012-\n2020-жылдары") == "2012-2020-жылдары"
    assert dehyphenate("COVID-\n19") == "COVID-19"


def test_dehyphenate_inline_break_only_with_evidence():
    text = "мүмкүнчүлүгү бар, бирок мүмкүн- чүлүгү чектелүү; орто- жана жогорку"
    assert dehyphenate(text) == "мүмкүнчүлүгү бар, бирок мүмкүнчүлүгү чектелүү; орто- жана жогорку"


def test_join_lines_layout_noise_seed_002():
    raw = (
        "Бизде эле эмес, баардык өлкөлөрдө билим берүү жаатынын \n\n"
        "бирден бир маанилүү багыты болуп калды. \n\n"
        "Негизги сөздөр: Кыргызстан, билим берүү, жогорку окуу \n\n"
        "жай, маалыматтык технология. \n\n"
        "Today the scientific and technical achievements of the \n\n"
        "education system dictate new conditions. \n\n"
        "Адабияттар: \n\n"
        "1. Кыргыз Республикасынын “Билим берүү жөнүндөгү” \n\n"
        "мыйзамы. \n\n"
        "2. Кыргыз Республикасынын Өкмөтү \n\n"
        "токтому. \n\n"
    )
    out = join_lines(raw)
    assert out.split("\n\n") == [
        "Бизде эле эмес, баардык өлкөлөрдө билим берүү жаатынын бирден бир маанилүү багыты "
        "болуп калды.",
        "Негизги сөздөр: Кыргызстан, билим берүү, жогорку окуу жай, маалыматтык технология.",
        "Today the scientific and technical achievements of the education system dictate new "
        "conditions.",
        "Адабияттар:",
        "1. Кыргыз Республикасынын “Билим берүү жөнүндөгү” мыйзамы.",
        "2. Кыргыз Республикасынын Өкмөтү токтому.",
    ]


def test_join_lines_space_line_is_a_paragraph_break_in_noise_layout():
    raw = (
        "Билим берүү үчүн ааламдашуу процесси маанилүү \n\nболуп саналат. Адамзаттын \n\n"
        "социалдык прогресси. \n\n \n\nКоомду демократиялаштыруу, саясий жана \n\n"
        "социалдык тандоо. \n\n \n\nҮчүнчү абзац жана \n\nанын уландысы."
    )
    assert join_lines(raw).split("\n\n") == [
        "Билим берүү үчүн ааламдашуу процесси маанилүү болуп саналат. Адамзаттын социалдык "
        "прогресси.",
        "Коомду демократиялаштыруу, саясий жана социалдык тандоо.",
        "Үчүнчү абзац жана анын уландысы.",
    ]


def test_join_lines_normal_layout_seed_000():
    raw = (
        "COVID-19 пандемиясы бүткүл дүйнө жүзүндөгү улуттук билим берүү системасына сокку урду.\n"
        "2020-жылдагы тажрыйба көрсөткөндөй, 168 өлкөдөгү окуучу аралыктан окутууга өттү.\n"
        "\n"
        "Азыркы учурда окутуунун бул формасы кыймылдын жана ресурстардын чектелген маалында\n"
        "окутуунун үзгүлтүксүздүгүн камсыздоо үчүн эң натыйжалуу ыкмалардын бири.\n"
        "\n\n"
        "ОКУЯЛАР ЖАНА ЖАНЫЛЫКТАР\n"
    )
    out = join_lines(raw)
    paras = out.split("\n\n")
    assert len(paras) == 3
    assert paras[1].startswith("Азыркы учурда") and "маалында окутуунун" in paras[1]
    assert paras[2] == "ОКУЯЛАР ЖАНА ЖАНЫЛЫКТАР"


def test_join_lines_never_breaks_a_plainly_continuing_sentence():
    raw = "Образование должно готовить людей к жизни \n\n \n\n формировать у них качества."
    assert (
        join_lines(raw) == "Образование должно готовить людей к жизни формировать у них качества."
    )
    raw = "колдоого багытталган \n\n. Бул коомдук таанууда"
    assert join_lines(raw) == "колдоого багытталган. Бул коомдук таанууда"


def test_join_lines_keeps_initials_inside_a_sentence():
    raw = "профессор А.\nКумарасвами тарабынан киргизилген."
    assert join_lines(raw) == "профессор А. Кумарасвами тарабынан киргизилген."


def test_join_lines_splits_caps_titles_and_bullets():
    raw = (
        "ЭЛ АРАЛЫК БАЙЛАНЫШТАРДЫН БИЛИМ САПАТЫНА ТИЙГИЗГЕН ТААСИРИ \n\n"
        "THE INFLUENCE OF INTERNATIONAL RELATIONS ON THE QUALITY OF \n\n"
        "EDUCATION \n\n"
        "Аннотация: Эл аралык коомчулук менен байланыштар түшүнүгү, анын \n\n"
        "билим берүүгө болгон таасири каралат. Алар: \n\n"
        "• Биринчиси; \n\n"
        "• Экинчиси, ал \n\n"
        "уланат."
    )
    assert join_lines(raw).split("\n\n") == [
        "ЭЛ АРАЛЫК БАЙЛАНЫШТАРДЫН БИЛИМ САПАТЫНА ТИЙГИЗГЕН ТААСИРИ",
        "THE INFLUENCE OF INTERNATIONAL RELATIONS ON THE QUALITY OF EDUCATION",
        "Аннотация: Эл аралык коомчулук менен байланыштар түшүнүгү, анын билим берүүгө болгон "
        "таасири каралат. Алар:",
        "• Биринчиси;",
        "• Экинчиси, ал уланат.",
    ]


def test_join_lines_output_format():
    out = join_lines("  A.  \n\n\n\n B. \n\n\n")
    assert out == "A.\n\nB."
    assert join_lines("") == "" and join_lines(" \n \n") == ""


# ----------------------------------------------------------------------------- properties

_ALPHABET = st.sampled_from(
    list("абвгдеёжзийклмнңоөпрстуүфхцчшщъыьэюяАБВГҢӨҮЁҥҤ")
    + list("abcdeopxyACEHKMOPTXYm019")
    + list(" \n\n\n\t.,;:!?-–—•()[]«»“”%/@_#*\u00a0\u00ad\u200b\r\uf0b7")
    + ["http://x.kg/a", "[bookmark: _x1]", "%D0%9A", "12", "\n \n", "Аннотация:", "- "]
)
_TEXT = st.lists(_ALPHABET, max_size=80).map("".join) | st.text(max_size=80)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_TEXT)
def test_clean_document_never_crashes_and_is_idempotent(text):
    once = clean_document(text)
    assert isinstance(once, str)
    assert clean_document(once) == once
    assert "\n\n\n" not in once and not once.endswith("\n") and not re.search(r" \n|\n ", once)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_TEXT)
@pytest.mark.parametrize("name", [name for name, _ in RULES])
def test_each_rule_is_idempotent(name, text):
    rule = dict(RULES)[name]
    once = rule(text)
    assert rule(once) == once


# ----------------------------------------------------------------------------- seed files


def test_seed_004_has_u_and_no_font_fault(cleaned):
    assert "ҥ" not in cleaned["004"] and "Ҥ" not in cleaned["004"]
    assert cleaned["004"].count("ү") > 500
    assert "деңгээли" in cleaned["004"]  # real ң kept


def test_seed_002_no_latin_inside_cyrillic_words(cleaned):
    for key, text in cleaned.items():
        for token in re.findall(r"[^\W\d_]+", text):
            if re.search(r"[а-яё]", token.lower()) and re.search(r"[a-z]", token.lower()):
                assert token in {"EAPтын"}, (key, token)
    assert "Сегодня научно-технические" in cleaned["002"]


def test_seed_artifacts_urls_and_page_numbers_gone(cleaned):
    assert "[bookmark:" not in cleaned["001"] and "[image:" not in cleaned["001"]
    assert "%D0" not in cleaned["003"] and "http" not in cleaned["003"]
    for text in cleaned.values():
        assert "http" not in text and "@" not in text
        for para in text.split("\n\n"):
            assert not re.fullmatch(r"[-–—\s]*\d{1,3}[-–—\s]*", para)


def test_seed_paragraph_format(cleaned):
    for key, text in cleaned.items():
        spans = split_paragraphs(text)
        assert [text[s:e] for s, e in spans] == text.split("\n\n"), key
        assert "\n" not in text.replace("\n\n", ""), key
        assert clean_document(text) == text, key


def test_seed_002_paragraphs_are_longer_than_pdf_lines(cleaned):
    raw_lines = [line.strip() for line in seed("002").split("\n") if line.strip()]
    line_len = sorted(map(len, raw_lines))[len(raw_lines) // 2]
    paras = cleaned["002"].split("\n\n")
    assert len(paras) < len(raw_lines) / 3
    assert sum(len(p) > 2 * line_len for p in paras) > 0.6 * len(paras)


def test_seed_hyphenation_repaired(cleaned):
    assert "Кыргызстандагы билим берүү тармагындагы илимий-техникалык" in cleaned["002"]
    assert "23-августта" in cleaned["002"]
    assert "education system dictate" in cleaned["002"]
    assert "онлайн-ресурстарды" in cleaned["000"]
    assert "окуу-усулдук" in cleaned["001"]
    assert "веб-конференциялар" in cleaned["004"]


@pytest.mark.parametrize("key", ["000", "001", "002", "003", "004"])
def test_seed_words_kept_in_order(key, cleaned):
    """Cleaning changes only whitespace and hyphenation of the running text: the words of the
    cleaned text appear in the raw text in the same order (modulo the repairs)."""
    out = clean_document(seed(key), skip={"dehyphenate", "remove_footnote_markers"})
    raw = clean_document(seed(key), rules=["normalize_unicode", "fix_kyrgyz_u", "fix_mixed_script"])
    raw_words, out_words = words(raw), words(out)
    it = iter(raw_words)
    missing = [w for w in out_words if not any(w == r for r in it)]
    assert not missing
    assert len(out_words) > 0.9 * len(raw_words)


def test_seed_markers_start_paragraphs(cleaned):
    paras = cleaned["003"].split("\n\n")
    starts = [p.split(":")[0] for p in paras if ":" in p[:25]]
    for marker in (
        "Аннотация",
        "Abstract",
        "Ключевые слова",
        "Key words",
        "Колдонулган адабияттар",
    ):
        assert marker in starts
    assert "ДИСТАНТТЫК ОКУТУУНУН АРТЫКЧЫЛЫКТАРЫ" in paras
    refs = [p for p in cleaned["002"].split("\n\n") if re.match(r"\d\. ", p)]
    assert len(refs) == 6
