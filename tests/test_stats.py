"""The compare stage's statistical primitives against independent references: scipy's Wilson
interval, a statsmodels ANOVA for the intra-document correlation, and Kish's design effect.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from topics import _stats

Z95 = stats.norm.ppf(0.975)


@pytest.mark.parametrize(("x", "n"), [(0, 10), (3, 10), (10, 10), (17, 250), (1, 1)])
def test_wilson_matches_scipy(x, n):
    ref = stats.binomtest(x, n).proportion_ci(0.95, method="wilson")
    low, high = _stats.wilson(x, n, Z95)
    assert low == pytest.approx(ref.low, abs=1e-12)
    assert high == pytest.approx(ref.high, abs=1e-12)


def test_wilson_of_no_trials_is_undefined():
    low, high = _stats.wilson(np.array([0.0]), np.array([0.0]), Z95)
    assert np.isnan(low).all() and np.isnan(high).all()


def _binary_rows(counts, sizes, group):
    """One row per segment: the document, its group and a 0/1 outcome per item."""
    rows = []
    for d, (n, g) in enumerate(zip(sizes, group, strict=True)):
        for i in range(int(n)):
            rows.append(
                {"doc": d, "grp": g, **{f"y{j}": int(i < c) for j, c in enumerate(counts[d])}}
            )
    return pd.DataFrame(rows)


def test_icc_matches_an_anova_of_documents_within_groups():
    import statsmodels.formula.api as smf
    from statsmodels.stats.anova import anova_lm

    rng = np.random.default_rng(3)
    sizes = rng.integers(2, 12, size=14).astype(float)
    group = np.repeat([0, 1], 7)
    p_doc = rng.beta(2, 3, size=(14, 2))
    counts = rng.binomial(sizes.astype(int)[:, None], p_doc).astype(float)
    got = _stats.icc(counts, sizes, group)

    df = _binary_rows(counts, sizes, group)
    N, df_b = sizes.sum(), 14 - 2
    n_g = np.bincount(group, weights=sizes)
    n0 = (N - (np.bincount(group, weights=sizes**2) / n_g).sum()) / df_b
    for j in range(2):
        # Documents within groups: the F test of the document model against the group model.
        by_group = smf.ols(f"y{j} ~ C(grp)", data=df).fit()
        by_doc = smf.ols(f"y{j} ~ C(doc)", data=df).fit()
        table = anova_lm(by_group, by_doc)
        assert table.loc[1, "df_diff"] == df_b
        msb = table.loc[1, "ss_diff"] / df_b
        msw = by_doc.ssr / by_doc.df_resid
        var_b = max(0.0, (msb - msw) / n0)
        assert got[j] == pytest.approx(var_b / (var_b + msw), abs=1e-9)


def test_icc_is_undefined_without_two_documents_in_a_group():
    assert np.isnan(_stats.icc(np.ones((2, 1)), np.array([3.0, 4.0]), np.array([0, 1]))).all()


def test_pooled_interval_without_clustering_is_the_wilson_interval():
    counts = np.array([[2.0], [5.0], [1.0]])
    sizes = np.array([4.0, 9.0, 3.0])
    low, high = _stats.pooled_interval(counts, sizes, np.array([0.0]), 1e9, 0.95)
    ref = stats.binomtest(8, 16).proportion_ci(0.95, method="wilson")
    assert low[0] == pytest.approx(ref.low, abs=1e-7)
    assert high[0] == pytest.approx(ref.high, abs=1e-7)


def test_pooled_interval_uses_kish_design_effect_and_a_t_quantile():
    # Equal documents of m segments: deff = 1 + (m - 1) rho (Kish 1965), so the interval is
    # the Wilson interval of the same share on N / deff trials, with the t quantile.
    m, docs, rho, df = 6, 5, 0.3, 3
    counts = np.array([[2.0], [4.0], [3.0], [5.0], [1.0]])
    sizes = np.full(docs, float(m))
    low, high = _stats.pooled_interval(counts, sizes, np.array([rho]), df, 0.95)
    n_eff = m * docs / (1 + (m - 1) * rho)
    share = counts.sum() / (m * docs)
    t = stats.t.ppf(0.975, df)
    centre = (share + t**2 / (2 * n_eff)) / (1 + t**2 / n_eff)
    half = t / (1 + t**2 / n_eff) * np.sqrt(share * (1 - share) / n_eff + t**2 / (4 * n_eff**2))
    assert low[0] == pytest.approx(centre - half, abs=1e-12)
    assert high[0] == pytest.approx(centre + half, abs=1e-12)
    # Clustering widens the interval.
    low0, high0 = _stats.pooled_interval(counts, sizes, np.array([0.0]), df, 0.95)
    assert high[0] - low[0] > high0[0] - low0[0]
