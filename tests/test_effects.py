from __future__ import annotations

import re
import warnings

import numpy as np
import pandas as pd
import pytest

from topics import effects as eff
from topics import figures
from topics.config import config_from_dict
from topics.errors import TopicsError

THEMES = ["digital literacy", "teachers and training", "inclusive education"]


def sim_segments(
    n_docs: int = 60,
    seed: int = 0,
    school_effect: float = 1.0,
    noise: float = 0.0,
    prior: str = "document",
):
    """Segments of ``n_docs`` documents: theme 0 planted (logit +school_effect at school,
    +0.1 per year), theme 2 constant 20 %; with ``noise`` > 0 also theme probabilities,
    calibrated within each document (``prior="document"``: the exact posterior given the
    document's shares) or only corpus-wide (``"corpus"``: the corpus's mean shares), and the
    theme column is their argmax.
    """
    rng = np.random.default_rng(seed)
    focus = np.array(["school", "university"])[rng.integers(0, 2, n_docs)]
    year = rng.integers(2015, 2024, n_docs)
    eta = -1.2 + school_effect * (focus == "school") + 0.1 * (year - 2019)
    mu = 1 / (1 + np.exp(-eta))
    th0 = rng.beta(10 * mu, 10 * (1 - mu))
    th2 = (1 - th0) * rng.beta(10 * 0.2 / (1 - mu), 10 * (1 - 0.2 / (1 - mu)))
    theta = np.column_stack([th0, 1 - th0 - th2, th2])
    sizes = rng.integers(5, 40, n_docs)
    doc = np.repeat(np.arange(n_docs), sizes)
    z = (rng.random(len(doc))[:, None] >= np.cumsum(theta[doc], 1)).sum(1).clip(0, 2)
    seg = pd.DataFrame(
        {
            "doc_id": [f"d{i:03d}" for i in doc],
            "segment_id": [f"d{i:03d}-{j:03d}" for i, j in zip(doc, range(len(doc)), strict=True)],
            "focus": focus[doc],
            "year": year[doc],
            "topic": z,
            "topic_label": [f"t{k}" for k in z],
            "theme": np.array(THEMES)[z],
            "true_theme": np.array(THEMES)[z],
        }
    )
    probs = None
    if noise:
        if prior == "document":
            logits = np.log(theta[doc]) + noise * (
                rng.normal(size=(len(doc), 3)) + 2 * np.eye(3)[z]
            )
        else:  # the exact posterior of z given signal ~ N(noise * onehot(z), I), corpus prior
            signal = rng.normal(size=(len(doc), 3)) + noise * np.eye(3)[z]
            logits = np.log(theta.mean(0))[None, :] + noise * signal
        probs = np.exp(logits - logits.max(1, keepdims=True))
        probs = pd.DataFrame(probs / probs.sum(1, keepdims=True), columns=THEMES)
        seg["theme"] = np.array(THEMES)[probs.to_numpy().argmax(1)]
    return seg, probs


def test_tables_have_the_documented_columns():
    seg, _ = sim_segments(40)
    res = eff.effects(seg, "focus + year", kind="theme")
    assert list(res.effects.columns) == eff.EFFECT_COLUMNS
    assert list(res.predicted.columns) == eff.PREDICTED_COLUMNS
    assert list(res.contrasts.columns) == eff.CONTRAST_COLUMNS
    # one row per item and coefficient; the intercept gets no p-value
    assert len(res.effects) == 3 * 3
    assert res.effects.loc[res.effects["term"] == "Intercept", "p_value"].isna().all()
    assert set(res.effects["term"]) == {"Intercept", "focus[T.university]", "year"}
    # n_docs: a level's coefficient counts that level's documents
    uni = res.effects[res.effects["term"] == "focus[T.university]"]["n_docs"].iloc[0]
    assert uni == seg.groupby("doc_id")["focus"].first().eq("university").sum()


def test_unknown_column_is_named_with_the_available_ones():
    seg, _ = sim_segments(30)
    with pytest.raises(TopicsError) as err:
        eff.effects(seg, "focus + yaer")
    msg = str(err.value)
    assert "'yaer'" in msg and "focus" in msg and "year" in msg


def test_single_level_covariate_is_refused():
    seg, _ = sim_segments(30)
    seg["country"] = "KG"
    with pytest.raises(TopicsError, match=r"covariate 'country' has a single value \('KG'\)"):
        eff.effects(seg, "focus + country")


def test_too_few_documents_are_refused_with_count_and_minimum():
    seg, _ = sim_segments(30)
    few = seg[seg["doc_id"].isin(["d000", "d001", "d002", "d003"])]
    few = few.assign(focus=np.where(few["doc_id"] <= "d001", "school", "university"))
    with pytest.raises(TopicsError, match=r"only 4 documents .* at least 5 documents"):
        eff.effects(few, "focus + year")


def test_documents_without_a_covariate_are_left_out_with_a_warning():
    seg, _ = sim_segments(30)
    seg.loc[seg["doc_id"] == "d000", "year"] = np.nan
    with pytest.warns(UserWarning, match=r"1 of 30 documents lack a value .* \(d000\)"):
        res = eff.effects(seg, "year", kind="topic")
    assert res.effects["n_docs"].max() == 29


def test_left_hand_side_and_varying_covariates_are_refused():
    seg, _ = sim_segments(30)
    with pytest.raises(TopicsError, match="only the covariates"):
        eff.effects(seg, "share ~ focus")
    seg.loc[seg.index[0], "focus"] = "university" if seg["focus"].iloc[0] == "school" else "school"
    with pytest.raises(TopicsError, match="varies within document 'd000'"):
        eff.effects(seg, "focus")


def test_certain_assignments_match_statsmodels():
    import statsmodels.api as sm
    import statsmodels.formula.api as smf

    seg, _ = sim_segments(50, seed=3)
    res = eff.effects(seg, "focus * year", kind="theme").effects
    docs = seg.groupby("doc_id").agg(focus=("focus", "first"), year=("year", "first"))
    share = pd.crosstab(seg["doc_id"], seg["theme"], normalize="index")[THEMES[0]]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = smf.glm(
            "share ~ focus * year", docs.assign(share=share), family=sm.families.Binomial()
        ).fit(scale="X2")
    mine = res[res["item"] == THEMES[0]].set_index("term")
    np.testing.assert_allclose(mine["estimate"], ref.params[mine.index], atol=1e-6)
    np.testing.assert_allclose(mine["std_error"], ref.bse[mine.index], rtol=1e-6)


def test_composition_recovers_a_planted_effect_with_document_calibrated_probabilities():
    seg, probs = sim_segments(120, seed=1, school_effect=1.0, noise=1.0)
    res = eff.effects(
        seg, "focus + year", probs=probs, n_draws=20, random_state=0, method="composition"
    ).effects
    school = res.set_index(["item", "term"]).loc[(THEMES[0], "focus[T.university]")]
    assert school["ci_low"] <= -1.0 <= school["ci_high"]
    assert school["ci_high"] < 0 and school["q_value"] < 0.01
    null = res.set_index(["item", "term"]).loc[(THEMES[2], "focus[T.university]")]
    assert null["ci_low"] < 0 < null["ci_high"]
    assert "composition over 20 draws" in school["method"]


@pytest.mark.parametrize("method", ["em", "composition"])
def test_draws_are_deterministic_and_one_hot_probabilities_are_the_labels(method):
    seg, probs = sim_segments(60, seed=2, noise=0.7)
    kw = {"probs": probs, "n_draws": 10, "method": method}
    a = eff.effects(seg, "focus + year", random_state=5, **kw)
    b = eff.effects(seg, "focus + year", random_state=5, **kw)
    c = eff.effects(seg, "focus + year", random_state=6, **kw)
    pd.testing.assert_frame_equal(a.effects, b.effects)
    pd.testing.assert_frame_equal(a.predicted, b.predicted)
    assert not np.allclose(a.effects["estimate"], c.effects["estimate"])
    # one-hot probabilities are certain: the same as the hard labels
    onehot = pd.get_dummies(seg["theme"]).reindex(columns=THEMES, fill_value=0).astype(float)
    hard = eff.effects(seg, "focus + year").effects
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # near-certain probabilities: warned, as they should
        same = eff.effects(seg, "focus + year", probs=onehot, n_draws=5, method=method).effects
    np.testing.assert_allclose(hard["estimate"], same["estimate"], rtol=1e-10)
    np.testing.assert_allclose(hard["std_error"], same["std_error"], rtol=1e-10)
    assert "hard theme labels" in hard["method"].iloc[0]


def test_separation_gives_no_estimate():
    seg, _ = sim_segments(40)
    school = seg["focus"] == "school"
    seg.loc[school & (seg["theme"] == THEMES[2]), "theme"] = THEMES[1]
    res = eff.effects(seg, "focus", kind="theme").effects
    rows = res[res["item"] == THEMES[2]]
    assert rows["estimate"].isna().all()
    assert rows["method"].str.contains("separation").all()
    assert res[res["item"] == THEMES[0]]["estimate"].notna().all()


def test_predictions_and_contrasts_are_consistent():
    seg, _ = sim_segments(80, seed=4)
    res = eff.effects(seg, "focus + year", kind="theme")
    p = res.predicted[(res.predicted["item"] == THEMES[0]) & (res.predicted["moderator"] == "")]
    lev = p[p["covariate"] == "focus"].set_index("value")
    assert (lev["ci_low"] < lev["share"]).all() and (lev["share"] < lev["ci_high"]).all()
    con = res.contrasts[res.contrasts["item"] == THEMES[0]].iloc[0]
    assert con["diff"] == pytest.approx(
        lev.loc[con["level_a"], "share"] - lev.loc[con["level_b"], "share"]
    )
    years = p[p["covariate"] == "year"]
    assert list(years["value"]) == [str(y) for y in range(2015, 2024)]
    assert (years["covariate_type"] == "numeric").all()
    # the planted +0.1/year trend: predicted share rises over the years
    assert years["share"].is_monotonic_increasing
    by_focus = res.predicted[res.predicted["moderator"] == "focus"]
    assert set(by_focus["moderator_value"]) == {"school", "university"}


def test_effects_config_section():
    cfg = config_from_dict({"effects": {"formulas": ["focus + year"], "n_draws": 10}})
    assert cfg.effects.formulas == ["focus + year"] and cfg.effects.n_draws == 10
    assert cfg.effects.method == "em"  # the corrected draws are the default
    assert config_from_dict({"effects": {"method": "composition"}}).effects.method == "composition"
    with pytest.raises(TopicsError, match="unknown setting"):
        config_from_dict({"effects": {"formula": "focus"}})


def test_effects_tables_skip_refused_formulas_with_a_warning():
    seg, _ = sim_segments(30)
    with pytest.warns(UserWarning, match="unknown column 'nope'"):
        out = eff.effects_tables(seg, ["nope", "focus"], on_error="warn")
    assert set(out.effects["formula"]) == {"focus"}
    assert set(out.effects["kind"]) == {"theme", "topic"}


def test_formula_columns_checked_up_front_as_the_design_finds_them():
    # A run checks its formulas before the embedding (check_columns); it must refuse exactly
    # the formulas the design matrix refuses for an unknown name or bad syntax, and no other.
    from topics._effects_design import check_columns, design

    seg, _ = sim_segments(30)
    formulas = ["focus * year", "C(focus, Treatment('school')) + np.log(year)", "focus:year",
                "Q('focus') + center(year)", "I(year - 2000)", "abs(year)", "bs(year, df=3)",
                "fokus", "Q('fokus')", "section", "log(year)", "focus +", "topic"]  # fmt: skip
    refused = []
    for f in formulas:
        try:
            design(seg, f, 0)
        except TopicsError as exc:
            assert re.search("unknown column|expected|NameError", str(exc)), exc
            refused.append(f)
    assert refused == ["fokus", "Q('fokus')", "section", "log(year)", "focus +", "topic"]
    for f in formulas:
        if f in refused:
            with pytest.raises(TopicsError, match=re.escape(repr(f))):
                check_columns(seg, f)
        else:
            check_columns(seg, f)


def test_prevalence_over_time_flags_sparse_years():
    seg, _ = sim_segments(30)
    seg.loc[seg["doc_id"] == "d000", "year"] = 2030  # a year with a single document
    table = eff.prevalence_over_time(seg, n_boot=200)
    assert table["year"].dtype.kind == "i"
    one = table[table["year"] == 2030]
    assert (one["n_docs"] == 1).all() and one["sparse"].all()
    assert not table.loc[table["n_docs"] >= eff.SPARSE_YEAR_DOCS, "sparse"].any()
    assert eff.prevalence_over_time(seg.drop(columns="year")) is None


def test_cli_writes_and_replaces_rows(tmp_path, capsys):
    from test_figures import make_result

    from topics.cli import main
    from topics.result import Result

    res, _ = make_result()
    seg, probs = sim_segments(40, seed=7, noise=0.5)
    res.segments, res.theme_probs = seg, probs.assign(segment_id=seg["segment_id"])
    res.effect_estimates = res.effect_predictions = res.effect_contrasts = None
    folder = tmp_path / "run"
    res.save(folder, report=False)
    assert main(["effects", str(folder), "--formula", "focus + year", "--draws", "5"]) == 0
    first = pd.read_csv(folder / "effects.csv")
    assert main(["effects", str(folder), "--formula", "focus + year", "--draws", "5"]) == 0
    again = pd.read_csv(folder / "effects.csv")
    pd.testing.assert_frame_equal(first, again)  # replaced, not appended; same seed
    assert main(["effects", str(folder), "--formula", "focus", "--kind", "topic"]) == 0
    both = Result.load(folder).effect_estimates
    assert set(zip(both["formula"], both["kind"], strict=True)) == {
        ("focus + year", "theme"),
        ("focus + year", "topic"),
        ("focus", "topic"),
    }
    theme = both[both["kind"] == "theme"]
    assert theme["method"].str.contains("themes drawn 5 times from their posterior").all()
    # the notebook API gives the same numbers as the command line
    api = Result.load(folder).effects("focus + year", kind="theme", n_draws=5).effects
    np.testing.assert_allclose(api["estimate"], theme["estimate"], rtol=1e-9)
    assert main(["effects", str(folder), "--formula", "focus + region"]) == 2
    assert "unknown column 'region'" in capsys.readouterr().err


def test_effect_figures_draw_the_tables():
    seg, _ = sim_segments(60, seed=8)
    res = eff.effects(seg, "focus * year", kind="theme")
    fig = figures.effect_estimates(res.predicted)
    assert len(fig.data) == 2  # one trace per level
    assert {t.name.split(" (")[0] for t in fig.data} == {"school", "university"}
    share = res.predicted.query("covariate == 'focus' and moderator == '' and value == 'school'")
    np.testing.assert_allclose(sorted(fig.data[0].x), sorted(share["share"]))
    fig = figures.effect_contrasts(res.contrasts)
    assert len(fig.data[0].y) == 3  # three items, one pair of levels
    fig = figures.effect_trends(res.predicted, moderator="focus")
    d = fig.to_dict()
    assert sum(1 for t in d["data"] if t.get("fill") == "toself") == 3 * 2  # items x levels
    with pytest.raises(ValueError, match="no numeric covariate"):
        figures.effect_trends(eff.effects(seg, "focus").predicted)


# --------------------------------------------------------------------------- noisy assignments


def _coded_sample(seg, n, seed=0):
    rows = np.random.default_rng(seed).choice(len(seg), size=n, replace=False)
    return seg.iloc[rows][["segment_id", "true_theme"]].rename(columns={"true_theme": "code"})


def _row(res, item, term):
    return res.effects.set_index(["item", "term"]).loc[(item, term)]


def test_em_corrects_the_attenuation_of_corpus_calibrated_probabilities():
    # probabilities that know only the corpus-wide shares pull every document towards the
    # corpus mix: drawing from them attenuates the planted school effect (-1.5 at university)
    seg, probs = sim_segments(150, seed=11, school_effect=1.5, noise=1.5, prior="corpus")
    kw = {"probs": probs, "n_draws": 10, "random_state": 0}
    naive = _row(
        eff.effects(seg, "focus + year", method="composition", **kw),
        THEMES[0],
        "focus[T.university]",
    )
    fixed = _row(eff.effects(seg, "focus + year", **kw), THEMES[0], "focus[T.university]")
    truth = _row(
        eff.effects(seg.assign(theme=seg["true_theme"]), "focus + year"),
        THEMES[0],
        "focus[T.university]",
    )
    assert abs(naive["estimate"]) < 0.6 * abs(truth["estimate"])
    assert naive["ci_high"] < truth["estimate"] or naive["ci_low"] > truth["estimate"]
    assert fixed["ci_low"] <= truth["estimate"] <= fixed["ci_high"]
    assert abs(fixed["estimate"] - truth["estimate"]) < 0.25 * abs(truth["estimate"])
    assert "covariate-dependent document prior" in fixed["method"]
    assert "not checked: no coded paragraphs" in fixed["method"]


def test_em_with_coded_paragraphs_corrects_hard_labels_and_overconfidence():
    seg, probs = sim_segments(150, seed=12, school_effect=1.5, noise=1.5, prior="corpus")
    coded = _coded_sample(seg, 200)
    truth = _row(
        eff.effects(seg.assign(theme=seg["true_theme"]), "focus + year"),
        THEMES[0],
        "focus[T.university]",
    )["estimate"]
    hard = _row(eff.effects(seg, "focus + year"), THEMES[0], "focus[T.university]")
    fixed = _row(
        eff.effects(seg, "focus + year", coded=coded, n_draws=10), THEMES[0], "focus[T.university]"
    )
    assert abs(hard["estimate"] - truth) > 0.3  # argmax labels are biased (here attenuated)
    assert not hard["ci_low"] <= truth <= hard["ci_high"]
    assert fixed["ci_low"] <= truth <= fixed["ci_high"]
    assert abs(fixed["estimate"] - truth) < 0.25 * abs(truth)
    assert "hard theme labels recalibrated on 200 coded paragraphs" in fixed["method"]
    # probabilities sharpened to temperature 1/4: the calibration recovers it
    log_sharp = 4 * np.log(probs.to_numpy())
    sharp = pd.DataFrame(np.exp(log_sharp - log_sharp.max(1, keepdims=True)), columns=THEMES)
    sharp = sharp.div(sharp.sum(axis=1), axis=0)
    fixed = _row(
        eff.effects(seg, "focus + year", probs=sharp, coded=coded, n_draws=10),
        THEMES[0],
        "focus[T.university]",
    )
    assert fixed["ci_low"] <= truth <= fixed["ci_high"]
    assert abs(fixed["estimate"] - truth) < 0.25 * abs(truth)


def test_near_certain_probabilities_without_coding_warn():
    seg, probs = sim_segments(40, seed=3, noise=6.0, prior="corpus")
    assert np.median(probs.max(axis=1)) > eff.NEAR_CERTAIN
    with pytest.warns(UserWarning, match="describe the ASSIGNED themes"):
        eff.effects(seg, "focus", probs=probs, n_draws=3)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the old method draws as told, without the warning
        eff.effects(seg, "focus", probs=probs, n_draws=3, method="composition")


def test_method_and_coded_errors_are_clear():
    seg, probs = sim_segments(40, seed=4, noise=1.5, prior="corpus")
    with pytest.raises(TopicsError, match="method must be one of em, composition"):
        eff.effects(seg, "focus", probs=probs, method="naive")
    with pytest.raises(TopicsError, match=r"only 10 of 10 coded paragraphs .* at least 30"):
        eff.effects(seg, "focus", probs=probs, coded=_coded_sample(seg, 10))
    with pytest.raises(TopicsError, match="'segment_id' and 'code' columns"):
        eff.effects(seg, "focus", probs=probs, coded=seg[["doc_id", "theme"]])
    # a run's own small few-shot sheet is not used, with a warning, rather than stopping it
    with pytest.warns(UserWarning, match=r"10 coded paragraphs \(10 with a theme\) are too few"):
        assert eff.enough_coded(_coded_sample(seg, 10)) is None
    assert len(eff.enough_coded(_coded_sample(seg, 40))) == 40


def test_dirichlet_multinomial_regression_recovers_its_parameters():
    from topics import _effects_em as em

    rng = np.random.default_rng(0)
    n, k = 3000, 3
    assert k == 3
    X = np.column_stack([np.ones(n), rng.integers(0, 2, n), rng.normal(size=n)])
    beta = np.array([[0.0, 0.5, -0.5], [0.0, 1.0, 0.0], [0.0, -0.5, 0.3]])
    eta = X @ beta
    mu = np.exp(eta) / np.exp(eta).sum(1, keepdims=True)
    theta = rng.gamma(6.0 * mu)
    theta /= theta.sum(1, keepdims=True)
    counts = np.stack(
        [rng.multinomial(m, t) for m, t in zip(rng.integers(5, 60, n), theta, strict=True)]
    ).astype(float)
    fitted, log_alpha = em.fit_prior(counts, X)
    np.testing.assert_allclose(fitted, beta, atol=0.12)
    assert abs(np.exp(log_alpha) - 6.0) < 1.0


def test_calibration_undoes_a_temperature():
    from topics import _effects_em as em

    rng = np.random.default_rng(1)
    logits = rng.normal(size=(4000, 4)) * 1.5
    q = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    labels = (rng.random(4000)[:, None] >= np.cumsum(q, 1)).sum(1).clip(0, 3)
    sharp = np.exp(3 * logits) / np.exp(3 * logits).sum(1, keepdims=True)
    cal = em.fit_calibration(em.log_probs(sharp), labels, l2=0.0)
    assert np.abs(cal.apply(em.log_probs(sharp)) - q).mean() < 0.02
    assert np.abs(sharp - q).mean() > 0.1


def test_run_uses_its_coded_paragraphs_and_the_cli_can_take_the_old_method(tmp_path):
    from test_figures import make_result

    from topics.cli import main
    from topics.result import Result

    res, _ = make_result()
    seg, probs = sim_segments(60, seed=9, noise=1.5, prior="corpus")
    res.segments, res.theme_probs = seg, probs.assign(segment_id=seg["segment_id"])
    res.coded = _coded_sample(seg, 60).assign(doc_id="", theme="", cv_theme="")
    res.effect_estimates = res.effect_predictions = res.effect_contrasts = None
    folder = tmp_path / "run"
    res.save(folder, report=False)
    assert (
        main(["effects", str(folder), "--formula", "focus", "--kind", "theme", "--draws", "4"]) == 0
    )
    method = Result.load(folder).effect_estimates["method"]
    assert method.str.contains("theme probabilities recalibrated on 60 coded paragraphs").all()
    assert (
        main(["effects", str(folder), "--formula", "focus", "--kind", "theme", "--draws", "4",
              "--method", "composition"]) == 0
    )  # fmt: skip
    method = Result.load(folder).effect_estimates["method"]
    assert method.str.contains("composition over 4 draws").all()
    # the notebook API takes the run's coded paragraphs too
    api = Result.load(folder).effects("focus", n_draws=4).effects["method"]
    assert api.str.contains("recalibrated on 60 coded paragraphs").all()
