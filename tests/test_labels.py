from __future__ import annotations

import re

import numpy as np
import pytest
import scipy.sparse as sp

from topics import labels as lb
from topics import words as w

# A planted topic (0): school paragraphs share "мугалим" and "мектеп"; "консорциум" occurs
# once in it. Topic 1 is sport. Every paragraph has filler function words.
PLANTED = [
    ("Мугалимдер мектепте жаңы сабак өтүштү жана окуучулар менен иштешти.", 0),
    ("Мектептин мугалими окуучуларга китеп берди, бул абдан жакшы.", 0),
    ("Мугалимдер үчүн мектептерде семинар болду, консорциум уюштурду.", 0),
    ("Мектептеги мугалимдердин айлыгы көбөйдү деп билдирди.", 0),
    ("Окуучулар мектепке барышты, мугалим аларды тосуп алды.", 0),
    ("Футбол командасы оюнда жеңишке жетти жана күйөрмандар кубанышты.", 1),
    ("Футболчулар машыгууда, команда жаңы оюнга даярданууда.", 1),
    ("Командабыз футбол боюнча чемпион болду.", 1),
    ("Футбол оюнунда команда эки гол киргизди.", 1),
]


def _planted():
    texts = [t for t, _ in PLANTED]
    topics = np.array([k for _, k in PLANTED])
    return texts, topics


def test_planted_topic_frequent_content_words_outrank_a_once_word():
    texts, topics = _planted()
    tw = lb.topic_words(texts, topics, ["ky"] * len(texts), n=30)
    top = tw.words[0]
    stems = [w.stem(x, "ky") for x in top]
    # мугалим (every paragraph, "мугалимдер" in 2), окуучу (3) and мектеп (every paragraph,
    # but in five different forms) all outrank "консорциум", which occurs once
    assert {"мугалим", "окуучу", "мектеп"} <= set(stems[:3])
    assert top.index("консорциум") > 2
    assert tw.weights[0][top.index("консорциум")] < tw.weights[0][2] / 100
    assert tw.words[1][0] == "футбол"
    assert all(a >= b for a, b in zip(tw.weights[0], tw.weights[0][1:], strict=False))
    assert set(top).isdisjoint(w.stopwords("ky"))
    assert len(stems) == len(set(stems))  # one form per stem


def test_frequent_form_of_a_stem_is_shown():
    texts, topics = _planted()
    tw = lb.topic_words(texts, topics, ["ky"] * len(texts), n=10)
    # "мугалимдер" is used in 2 paragraphs, every other form of мугалим in one
    assert tw.words[0][0] == "мугалимдер"
    assert not {"мугалими", "мугалим", "мугалимдердин"} & set(tw.words[0])


def test_score_words_rewards_coverage_and_lift():
    # word 0: in 4/4 of topic 0 and nowhere else; word 1: everywhere; word 2: once in topic 0
    x = np.zeros((8, 3))
    x[:4, 0] = 1
    x[:, 1] = 1
    x[0, 2] = 1
    topics = np.array([0] * 4 + [1] * 4)
    keys, weights = lb.score_words(sp.csr_matrix(x), topics, min_df=1)
    assert keys.tolist() == [0, 1]
    assert weights[0, 0] > weights[0, 2] > 0
    # no lift: weight by coverage only, below any word with lift
    assert weights[0, 1] == weights[1, 1] == pytest.approx(lb.NO_LIFT)
    assert weights[0, 2] > weights[0, 1]
    _, floored = lb.score_words(sp.csr_matrix(x), topics, min_df=2)
    assert floored[0, 2] == pytest.approx(weights[0, 2] * lb.BELOW_FLOOR)
    assert floored[0, 0] == weights[0, 0]
    _, more = lb.score_words(sp.csr_matrix(x), topics, min_df=1, coverage=2.0)
    assert more[0, 2] / more[0, 0] < weights[0, 2] / weights[0, 0]  # coverage counts more
    with pytest.raises(ValueError, match="method"):
        lb.score_words(sp.csr_matrix(x), np.zeros(8, dtype=int), method="nope")


@pytest.mark.parametrize(
    ("lang", "texts", "stop"),
    [
        ("ky", ["Мектеп жана мугалим менен бул окуучу", "Мектеп үчүн мугалим жана ал"], "ky"),
        ("ru", ["Школа и учитель в этом классе", "Школа для учителя и его ученики"], "ru"),
        ("mn", ["Сургууль нь багш бол энэ хүүхэд", "Сургууль болон багш нь мөн"], "mn"),
        ("en", ["The school and the teacher of this class", "A school for the teacher"], "en"),
    ],
)
def test_per_language_lists_exclude_that_languages_stop_words(lang, texts, stop):
    texts = texts * 3
    langs = [lang] * len(texts)
    topics = np.zeros(len(texts), dtype=int)
    tw = lb.topic_words(texts, topics, langs, n=20)
    listed = tw.by_language[lang][0]
    assert listed  # content words are there
    assert set(listed).isdisjoint(w.stopwords(stop))
    assert set(tw.words[0]).isdisjoint(w.stopwords(stop))


def test_labels_are_human_unique_and_never_id_words():
    words = {
        -1: ["a", "b"],
        0: ["мугалимдер", "консорциум", "тажикстан", "иш"],
        1: ["мугалимдер", "консорциум", "тажикстан", "окуу"],  # same first three words
        2: ["окуу"],
        3: [],
        4: ["мугалимдер", "консорциум", "тажикстан"],  # nothing left to add
    }
    names = {2: "distance learning", 5: "distance learning (2)"}
    out = lb.topic_labels(words, names, display={"тажикстан": "Тажикстан"})
    assert out[-1] == "outliers"
    assert out[0] == "мугалимдер · консорциум · Тажикстан"
    assert out[1] == "мугалимдер · консорциум · Тажикстан · окуу"
    assert out[2] == "distance learning" and out[5] == "distance learning (2)"
    assert out[3] == "topic 3"
    assert out[4] == "мугалимдер · консорциум · Тажикстан (2)"
    assert len(set(out.values())) == len(out)
    assert not any(re.fullmatch(r"-?\d+_\S+(_\S+)*", lab) for lab in out.values())


def test_display_forms_capitalise_proper_nouns_only():
    texts = [
        "Эксперттер Тажикстандан келишти. Мугалимдер Тажикстандан келишти.",
        "Алар Тажикстандан жана Бишкектен. Мугалимдер жакшы, анткени мугалимдер окушат.",
    ]
    forms = lb._display_forms(texts, {"тажикстандан", "мугалимдер"})
    assert forms == {"тажикстандан": "Тажикстандан"}


def test_tokens_keywords_and_display_forms_in_worker_chunks_equal_one_pass(monkeypatch):
    """Above ``PARALLEL_TEXTS_MIN`` texts the corpus is tokenised in chunks, in worker
    processes; the counts, forms, stems, display forms and keyword counts are those of one
    pass."""
    from topics import _rows
    from topics import themes as th

    texts = [t for t, _ in PLANTED] * 3 + [
        "Алар Тажикстандан жана Бишкектен келишти.",
        "Эксперттер Тажикстандан келишти.",
        "",
    ]
    analyzer = w.make_analyzer(["ky"])
    wanted = {"тажикстандан", "мугалимдер", "футбол"}
    codebook = [
        th.Theme(name="school", keywords=("мугалим", "мектеп окуучу")),
        th.Theme(name="sport", keywords=("футбол команда",)),
    ]
    one = lb._token_counts(texts, analyzer)
    forms_one = lb._display_forms(texts, wanted)
    lex_one = th.lexical_scores(texts, codebook, analyzer)
    monkeypatch.setattr(_rows, "PARALLEL_TEXTS_MIN", 10)
    monkeypatch.setattr(_rows, "usable_cores", lambda: 2)
    assert len(_rows.text_chunks(lb._chunk_tokens, texts, analyzer)) == 8
    two = lb._token_counts(texts, analyzer)
    assert two[1] == one[1] and two[2] == one[2]
    assert two[0].shape == one[0].shape and (two[0] != one[0]).nnz == 0
    assert lb._display_forms(texts, wanted) == forms_one == {"тажикстандан": "Тажикстандан"}
    lex_two = th.lexical_scores(texts, codebook, analyzer)
    assert np.array_equal(lex_two, lex_one) and lex_one[:9].sum() > 0


def test_words_stay_cyrillic_and_deterministic():
    texts, topics = _planted()
    a = lb.topic_words(texts, topics, ["ky"] * len(texts))
    b = lb.topic_words(texts[::-1], topics[::-1], ["ky"] * len(texts))
    assert a.words == b.words
    assert all(re.fullmatch(r"[а-яёөүң-]+", x) for ws in a.words.values() for x in ws)


def test_with_theme_names_keeps_labels_unique():
    out = lb.with_theme_names({-1: "outliers", 0: "a · b · c", 1: "x", 2: "y"}, {1: "a · b · c"})
    assert out == {-1: "outliers", 0: "a · b · c (2)", 1: "a · b · c", 2: "y"}


def test_per_language_lists_of_a_mixed_corpus():
    ky = ["Мектепте мугалим жана окуучулар менен иштешет", "Мугалим үчүн мектеп бул үй"]
    ru = ["Учитель в школе и с учениками это", "Для учителя школа как дом и всё"]
    texts = (ky + ru) * 3
    langs = (["ky"] * 2 + ["ru"] * 2) * 3
    topics = np.zeros(len(texts), dtype=int)
    tw = lb.topic_words(texts, topics, langs, n=20)
    assert set(tw.by_language) == {"ky", "ru"}
    assert {"учитель", "школе"} & set(tw.by_language["ru"][0])
    assert set(tw.by_language["ru"][0]) <= {t for text in ru for t in w.tokenize(text)}
    assert set(tw.by_language["ru"][0]).isdisjoint(w.stopwords("ru"))
    assert set(tw.by_language["ky"][0]).isdisjoint(w.stopwords("ky"))
    assert {"мугалим", "мектепте"} & set(tw.by_language["ky"][0])


def _two_stories():
    """Topic 0 (20 paragraphs) mixes two stories; topic 1 (20 paragraphs) is elsewhere.

    ``zorbel`` (paragraphs 0-11) leads topic 0. ``quintax`` and ``mavrid`` (0-7) share its
    paragraphs; ``plonkit`` (10-19) is in more paragraphs but shares only two with ``zorbel``.
    ``hapaxone`` and ``hapaxtwo`` occur once, together.
    """
    texts = []
    for i in range(20):
        words = ["commonword"]
        words += ["zorbel"] * (i < 12) + ["quintax", "mavrid"] * (i < 8) + ["plonkit"] * (i >= 10)
        words += ["hapaxone", "hapaxtwo"] * (i == 0)
        texts.append(" ".join(words))
    texts += [f"commonword riverbank mountainside valley{i % 3}x" for i in range(20)]
    topics = np.array([0] * 20 + [1] * 20)
    return texts, topics


def test_coherence_prefers_words_that_share_documents():
    texts, topics = _two_stories()
    langs = ["en"] * len(texts)
    by_weight = lb.topic_words(texts, topics, langs, n=4, coherence=0).words[0]
    coherent = lb.topic_words(texts, topics, langs, n=4).words[0]
    # by weight alone, plonkit (10 paragraphs) comes second, before the 8-paragraph words
    assert by_weight[:2] == ["zorbel", "plonkit"]
    # re-ranked, the words of zorbel's story come before it
    assert coherent[:3] in (["zorbel", "mavrid", "quintax"], ["zorbel", "quintax", "mavrid"])
    assert coherent[3] == "plonkit"
    # the same words, only their order changes; weights stay the words' own
    full = lb.topic_words(texts, topics, langs, n=20)
    assert "hapaxone" not in full.words[0][:5] and "hapaxtwo" not in full.words[0][:5]
    tw = lb.topic_words(texts, topics, langs, n=4)
    weight_of = dict(zip(by_weight, lb.topic_words(texts, topics, langs, n=4, coherence=0)
                         .weights[0], strict=True))  # fmt: skip
    assert set(coherent) == set(by_weight)
    assert tw.weights[0] == [weight_of[w] for w in coherent]


def test_coherence_counts_documents_when_there_are_enough(monkeypatch):
    # documents 0-9: "zorbel" then "plonkit" (same document, never the same paragraph);
    # documents 10-11: "zorbel"; documents 12-21: "mavrid" alone. plonkit and mavrid weigh
    # the same (10 paragraphs each), so mavrid comes first by weight (alphabetical).
    texts, groups = [], []
    for d in range(22):
        paragraphs = (["zorbel", "plonkit"] if d < 10 else ["zorbel"]) if d < 12 else ["mavrid"]
        texts += paragraphs
        groups += [f"d{d}"] * len(paragraphs)
    texts += ["riverbank mountainside"] * 20
    groups += [f"r{i}" for i in range(20)]
    topics = np.array([0] * (len(texts) - 20) + [1] * 20)
    langs = ["en"] * len(texts)
    monkeypatch.setattr(lb, "MIN_GROUPS", 2)
    assert lb.topic_words(texts, topics, langs, n=2, groups=groups).words[0] == [
        "zorbel",
        "plonkit",
    ]
    assert lb.topic_words(texts, topics, langs, n=2).words[0] == ["zorbel", "mavrid"]
    monkeypatch.setattr(lb, "MIN_GROUPS", 1000)  # too few documents: paragraphs are used
    assert lb.topic_words(texts, topics, langs, n=2, groups=groups).words[0] == [
        "zorbel",
        "mavrid",
    ]


def test_npmi_matrix_and_units():
    x = sp.csr_matrix(np.array([[1, 1, 0], [1, 1, 0], [0, 0, 1], [0, 0, 0]], dtype=float))
    m = lb._npmi_matrix(sp.csc_matrix(x), [0, 1, 2])
    assert m[0, 1] == pytest.approx(1.0)  # always together
    assert m[0, 2] == -1.0  # never together
    units = lb._units(x, np.array([0, 1, 0, 1]))  # rows 0+2, rows 1+3
    assert units.toarray().tolist() == [[1, 1, 1], [1, 1, 0]]


def test_class_tfidf_words_equal_bertopics_own_c_tf_idf():
    """The c-TF-IDF a run stores (``model/ctfidf_topic_words.json``) is BERTopic's: the same
    weights as BERTopic's manual mode with our vectorizer, computed without a second pass."""
    from topics.interop import to_bertopic

    texts = [t for t, _ in PLANTED] * 2 + ["Жаңы китеп жана футбол.", "Мектепте футбол оюну."]
    topics = np.array([k for _, k in PLANTED] * 2 + [-1, -1])
    langs = ["ky"] * len(texts)
    vectors = np.random.default_rng(0).normal(size=(len(texts), 8)).astype(np.float32)
    bt = to_bertopic(texts, vectors, topics, langs, top_n_words=30)
    ours = lb.topic_words(texts, topics, langs, n=10).ctfidf
    assert sorted(ours) == sorted(bt.get_topics()) == [-1, 0, 1]
    for k in ours:
        theirs = {word: s for word, s in bt.get_topic(k) if word}
        assert dict(ours[k]) == pytest.approx(theirs, rel=1e-12)
        weights = [s for _, s in ours[k]]
        assert weights == sorted(weights, reverse=True)
