from __future__ import annotations

import numpy as np
import pytest

from topics.errors import TopicsError
from topics.themes import (
    Theme,
    assign_themes,
    codebook_scores,
    combine_scores,
    lexical_scores,
    load_codebook,
    name_topics,
    parse_codebook,
    prototype_bias,
    prototype_scores,
    theme_queries,
)


def test_codebook_parsing_and_unknown_fields_ignored(tmp_path):
    p = tmp_path / "cb.toml"
    p.write_text(
        '[[theme]]\nname = "gender"\ndescription = "Gender equality"\n'
        'keywords = ["гендер", "gender"]\ncolour = "red"\n\n'
        '[[theme]]\nname = "infrastructure"\nkeywords = "интернет"\n',
        "utf-8",
    )
    themes = load_codebook(p)
    assert themes == [
        Theme("gender", "Gender equality", ("гендер", "gender")),
        Theme("infrastructure", "", ("интернет",)),
    ]


@pytest.mark.parametrize(
    "data,match",
    [
        ({}, "no \\[\\[theme\\]\\] tables"),
        ({"theme": [{"description": "x"}]}, "theme #1 has no `name`"),
        (
            {"theme": [{"name": "a", "keywords": ["x"]}, {"name": "a", "keywords": ["y"]}]},
            "duplicate",
        ),
        ({"theme": [{"name": "a"}]}, "neither description nor keywords"),
        ({"theme": [{"name": "a", "keywords": [1, 2]}]}, "list of strings"),
    ],
)
def test_codebook_errors_name_the_problem(data, match):
    with pytest.raises(TopicsError, match=match):
        parse_codebook(data, where="cb.toml")


def test_codebook_file_errors(tmp_path):
    with pytest.raises(TopicsError, match="not found"):
        load_codebook(tmp_path / "nope.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("[[theme]\nname=", "utf-8")
    with pytest.raises(TopicsError, match="not valid"):
        load_codebook(bad)


def test_theme_queries_owner():
    texts, owner = theme_queries([Theme("a", "desc", ("k1", "k2")), Theme("b", "", ("k3",))])
    assert texts == ["a: desc", "desc", "a", "k1", "k2", "b", "k3"]
    assert owner.tolist() == [0, 0, 0, 0, 0, 1, 1]


def test_theme_queries_cut_description_into_clauses_without_duplicates():
    texts, _ = theme_queries([Theme("gender", "gender, girls' education; women and equality")])
    assert texts == [
        "gender: gender, girls' education; women and equality",
        "gender",
        "girls' education",
        "women",
        "equality",
    ]


def test_prototype_bias_penalises_prototypes_that_attract_everything():
    # Theme 0 has one specific prototype; theme 1 has a generic one close to every other
    # prototype as well as its own specific one.
    e = np.eye(4)
    generic = np.ones(4) / 2.0
    queries = np.vstack([e[0], e[1], generic, e[2]])
    owner = np.array([0, 1, 1, 2])
    bias = prototype_bias(queries, owner, 3, top_k=1)
    assert bias[1] > bias[0] and bias[1] > bias[2]
    # A passage equally close to theme 0 and to the generic prototype goes to theme 0 once
    # the bias is removed, not before.
    passage = (e[0] + generic) / np.linalg.norm(e[0] + generic)
    raw = prototype_scores(passage[None, :], queries, owner, 3, top_k=1)[0]
    fair = codebook_scores(passage[None, :], [queries], owner, 3, bias_weight=0.5, top_k=1)[0]
    assert raw[1] >= raw[0]
    assert fair.argmax() == 0
    assert prototype_bias(e[:2], np.array([0, 0]), 1).tolist() == [0.0]


def test_prototype_scores_pick_the_nearest_theme():
    rng = np.random.default_rng(0)
    centers = np.eye(4)[:2]
    queries = np.vstack([centers[0], centers[0], centers[1]])
    owner = np.array([0, 0, 1])
    passages = centers[[0, 1, 1]] + 0.05 * rng.normal(size=(3, 4))
    passages /= np.linalg.norm(passages, axis=1, keepdims=True)
    s = prototype_scores(passages, queries, owner, 2)
    assert s.shape == (3, 2)
    assert s.argmax(axis=1).tolist() == [0, 1, 1]


def test_lexical_scores_match_stemmed_phrases():
    def analyzer(text):
        return [w[:5] for w in text.lower().replace(",", " ").split()]

    themes = [Theme("digital", keywords=("санариптик сабаттуулук",)), Theme("x", keywords=("zzz",))]
    s = lexical_scores(
        ["Мугалимдердин санариптик сабаттуулугу төмөн", "Башка текст"], themes, analyzer
    )
    assert s[0, 0] > 0 and s[0, 1] == 0 and s[1].sum() == 0


def test_context_and_topic_evidence_move_scores():
    proto = np.array([[1.0, 0.0], [0.4, 0.6], [1.0, 0.0], [0.0, 1.0]])
    alone = combine_scores(proto, w_article=0, w_neighbours=0).argmax(1)
    assert alone[1] == 1
    groups = ["d", "d", "d", "e"]
    with_nb = combine_scores(proto, groups=groups, w_article=0, w_neighbours=1.0)
    assert with_nb.argmax(1)[1] == 0  # both neighbours are theme 0
    with_art = combine_scores(proto, groups=groups, w_article=1.0, w_neighbours=0)
    assert with_art.argmax(1)[1] == 0  # the article is mostly theme 0
    assert with_art.argmax(1)[3] == 1  # another article is unaffected
    with_topic = combine_scores(
        proto, topics=[0, 0, 0, 1], w_article=0, w_neighbours=0, w_topic=1.0
    )
    assert with_topic.argmax(1)[1] == 0
    # Keyword evidence adds on the cosine scale.
    lex = np.array([[0.0, 0.0], [0.0, 0.0], [0.0, 0.0], [np.log(2), 0.0]])
    moved = combine_scores(proto, lex, w_lexical=2.0, w_article=0, w_neighbours=0)
    assert moved.argmax(1)[3] == 0


def test_assign_themes_threshold_and_naming():
    scores = np.array(
        [[0.85, 0.80], [0.80, 0.84], [0.83, 0.86], [0.50, 0.55], [0.86, 0.82], [0.81, 0.85]]
    )
    a = assign_themes(scores, ["a", "b"], min_z=3.0)
    # Row 3 fits nothing nearly as well as the others fit their best theme.
    assert a.theme == ["a", "b", "b", "", "a", "b"]
    assert a.theme_score.tolist() == [0.85, 0.84, 0.86, 0.55, 0.86, 0.85]
    assert assign_themes(scores, ["a", "b"], min_z=np.inf).theme[3] == "b"
    names = name_topics([0, 0, 1, 2], ["a", "", "b", "b"], min_share=0.5)
    assert names[0] == "a"
    assert sorted([names[1], names[2]]) == ["b", "b (2)"]


def test_topic_to_theme_is_data_even_for_names_with_parentheses():
    """A theme called "ICT (schools)" names its topics and lists them in the themes table:
    the topic -> theme map is data, never recovered by splitting labels on " (".
    """
    from topics.schema import THEME_COLUMNS
    from topics.themes import themes_table, topic_themes

    topics = [0, 0, 0, 1, 1, 2, 2, -1]
    theme = ["ICT (schools)"] * 3 + ["gender (rural)"] * 2 + ["ICT (schools)"] * 2 + [""]
    assert topic_themes(topics, theme) == {
        0: "ICT (schools)",
        1: "gender (rural)",
        2: "ICT (schools)",
    }
    names = name_topics(topics, theme)
    assert names == {0: "ICT (schools)", 2: "ICT (schools) (2)", 1: "gender (rural)"}
    codebook = [Theme("ICT (schools)"), Theme("gender (rural)"), Theme("unused (none)")]
    table = themes_table(codebook, theme, topic_themes(topics, theme)).set_index("theme")
    assert list(table.reset_index().columns) == THEME_COLUMNS
    assert table.loc["ICT (schools)", "topics"] == "0, 2"
    assert table.loc["gender (rural)", "topics"] == "1"
    assert table.loc["unused (none)", "topics"] == ""
    assert table["n_segments"].tolist() == [5, 2, 0]
