from __future__ import annotations

import pickle
import sys

import pytest
from conftest import EVAL, ROOT
from sklearn.base import clone
from sklearn.feature_extraction.text import CountVectorizer

from topics import words as w

UD = EVAL / "ud_kyrgyz_ktmu"


def test_tokenize_kyrgyz_sentence():
    text = (
        "2023-жылы Бишкектеги мектептердин 80% окуучулары онлайн-ресурстарды колдонушат, "
        "деп билдирди министрлик (www.edu.gov.kg, info@edu.kg). Ү, ң!"
    )
    assert w.tokenize(text) == [
        "жылы",
        "бишкектеги",
        "мектептердин",
        "окуучулары",
        "онлайн-ресурстарды",
        "колдонушат",
        "деп",
        "билдирди",
        "министрлик",
    ]


def test_tokenize_scripts_and_apostrophes():
    assert w.tokenize("Don’t STOP: ӯқитувчиён, өнөр — білім; COVID-19") == [
        "don't",
        "stop",
        "ӯқитувчиён",
        "өнөр",
        "білім",
        "covid",
    ]
    assert w.tokenize("") == []


@pytest.mark.parametrize(
    ("lang", "expected"),
    [
        ("ky", {"жана", "менен", "үчүн", "боюнча", "бул", "деп", "эмес"}),
        ("ru", {"и", "в", "что", "который"}),
        ("en", {"the", "and", "of"}),
        ("tg", {"ва", "дар", "аз", "шуд", "кард"}),
        ("mn", {"нь", "юм", "бол", "байна", "болон", "энэ", "мөн", "руу", "тэрээр"}),
        ("kk", {"және", "үшін", "бұл"}),
    ],
)
def test_stopwords_contain_function_words(lang, expected):
    sw = w.stopwords(lang)
    assert len(sw) >= 50
    assert expected <= sw
    assert all(s == s.lower() and s.strip() == s for s in sw)


def test_stopwords_drop_content_words():
    from spacy.lang.ky.stop_words import STOP_WORDS

    assert w.KY_SPACY_CONTENT <= STOP_WORDS  # the documented words really are in spaCy's list
    assert not (w.KY_SPACY_CONTENT & w.stopwords("ky"))
    assert {"research", "system", "information"}.isdisjoint(w.stopwords("en"))
    assert {"человек", "работа", "страна"}.isdisjoint(w.stopwords("ru"))
    assert w.stopwords("xx") == frozenset()


def test_spacy_kyrgyz_list_read_without_importing_spacy():
    from spacy.lang.ky.stop_words import STOP_WORDS

    assert w._spacy_ky_stopwords() == frozenset(STOP_WORDS)


@pytest.mark.parametrize(
    ("form", "lemma"),
    [
        ("мектептерде", "мектеп"),
        ("окуучулардын", "окуучу"),
        ("билимди", "билим"),
        ("мугалимдерге", "мугалим"),
        ("мектебибиз", "мектеп"),
        ("университеттин", "университет"),
        ("маселеси", "маселе"),
        ("жолунун", "жол"),
        ("багы", "бак"),
        ("үйүнө", "үй"),
        ("аяктады", "аякта"),
        ("кайтарылды", "кайтар"),
        ("изилдөөлөр", "изилде"),
        ("технологиялар", "технология"),
        ("онлайн-ресурстарды", "онлайн-ресурс"),
        # unchanged: short words, deverbal nouns in -ым/-им, agentives, -ат nouns, adverbs
        ("суу", "суу"),
        ("үйдө", "үй"),
        ("эл", "эл"),
        ("билим", "билим"),
        ("чечим", "чечим"),
        ("окуучу", "окуучу"),
        ("мамлекет", "мамлекет"),
        ("маалымат", "маалымат"),
        ("жакшы", "жакшы"),
        ("кийин", "кийин"),
        ("school", "school"),
    ],
)
def test_lemmatize_ky_examples(form, lemma):
    assert w.lemmatize_ky(form) == lemma


def test_lemmatize_ky_is_idempotent_on_lemmas():
    for word in ["мектеп", "окуучу", "билим", "мугалим", "университет", "маселе"]:
        assert w.lemmatize_ky(w.lemmatize_ky(word)) == word


def test_stem_other_languages():
    assert w.stem("школами", "ru") == w.stem("школы", "ru") == "школ"
    assert w.stem("studies", "en") == "study"
    assert w.stem("schools", "en") == "school"
    assert w.stem("word", "xx") == "word"
    assert w.stem("мактабҳо", "tg") == w.stem("мактаб", "tg")


def test_token_language_routing():
    assert w.token_language("school", ["ky"]) == "en"
    assert w.token_language("мектеп", ["en", "ky", "ru"]) == "ky"
    assert w.token_language("образования", ["en", "ky", "ru"]) == "ru"
    assert w.token_language("школа", ["ru"]) == "ru"
    assert w.token_language("сургууль", ["mn"]) == "mn"
    assert w.token_language("мактабҳо", ["ky", "tg"]) == "tg"
    assert w.token_language("білім", ["ky", "kk"]) == "kk"


def test_analyzer_drops_stop_words_digits_urls_and_unifies_forms():
    analyzer = w.make_analyzer(["ky"])
    out = analyzer("Мектеп жана мектептер, мектептерде 2024 www.edu.kg the school и ал")
    assert out == ["мектеп", "мектеп", "мектеп", "school"]
    assert analyzer("") == []
    assert analyzer("жана менен үчүн 123 бул") == []


def test_analyzer_in_countvectorizer_and_pickle():
    analyzer = w.make_analyzer(["en", "ky", "ru"])
    vec = CountVectorizer(analyzer=analyzer)
    x = vec.fit_transform(["мектептерде окуучулар", "мектеп окуучуларга окуучулардын"])
    assert sorted(vec.vocabulary_) == ["мектеп", "окуучу"]
    assert x.toarray().tolist() == [[1, 1], [1, 2]]
    assert repr(clone(vec).analyzer) == "Analyzer(langs=('en', 'ky', 'ru'))"
    again = pickle.loads(pickle.dumps(analyzer))
    assert again == analyzer and again("мектептерде") == ["мектеп"]


def test_analyzer_matches_inflected_keyword_phrase():
    analyzer = w.make_analyzer(["ky"])
    phrase = set(analyzer("санариптик сабаттуулук"))
    assert phrase and phrase <= set(analyzer("Окуучулардын санариптик сабаттуулугу өстү."))


def test_surface_forms_pick_frequent_form():
    texts = ["мектептерде мектептерде мектеп", "мектептерде окуучулар", "окуучулар окуучулар"]
    sf = w.SurfaceForms(texts, w.make_analyzer(["ky"]))
    assert sf.surface("мектеп") == "мектептерде"
    assert sf.surface("окуучу") == "окуучулар"
    assert sf.surface("белгисиз") == "белгисиз"
    tie = w.SurfaceForms(["мектептер мектепте"])  # default analyzer; tie → alphabetical
    assert tie.surface("мектеп") == "мектепте"


@pytest.mark.skipif(not UD.is_dir(), reason="UD Kyrgyz-KTMU eval data not present")
def test_ud_lemma_accuracy_beats_identity():
    sys.path.insert(0, str(ROOT / "experiments"))
    import bench_lemma

    rows = [
        r
        for f in sorted(UD.glob("*-test.conllu"))
        for r in bench_lemma.read_conllu(f)
        if r[2] not in bench_lemma.SKIP_POS
    ]
    ours = bench_lemma.score(rows, w.lemmatize_ky)
    base = bench_lemma.score(rows, lambda f: f)
    assert ours["nouns"] >= base["nouns"] + 0.3
    assert ours["all"] >= base["all"] + 0.3
    assert ours["nouns"] >= 0.8
