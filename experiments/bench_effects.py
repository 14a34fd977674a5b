"""Benchmark of topics.effects: interval coverage, false positives and bias on simulated corpora.

Each simulated corpus has documents with a categorical covariate ``focus`` (general / school /
univ, 40/30/30 %) and ``year`` (2010-2024, uniform), 5-60 paragraphs each, and three themes:

- ``A`` with planted effects: logit E[share] = -1.2 + 0.7 school - 0.5 univ + 0.06 (year - 2017);
- ``C`` with no effect at all: E[share] = 0.2 for every document;
- ``B`` the remainder (its coefficients are compared with their pseudo-true values, the fit of
  the fractional logit to the exact expected shares of 200,000 simulated documents).

Document shares vary around their expectation (beta, precision 8: documents differ strongly),
paragraphs draw their theme from the document's shares. Assignments are noisy: every paragraph
gets a signal ``e ~ N(delta * onehot(theme), I)``, delta=1.5 (the best theme is right for
about 70 % of paragraphs). Probabilities: calibrated within the document (the exact posterior
given the document's shares), (a) only corpus-wide (given the mean shares), (b) overconfident
((a)'s log-probabilities x3); (c) hard labels (argmax of (a)); ``certain`` = the true themes
(cross-checked against statsmodels). Each is analysed with the old method (composition / hard
labels) and the new default ``method="em"``, with or without 200 coded paragraphs (the true
theme of a random sample); see :data:`SCENARIOS`.

Run: ``python experiments/bench_effects.py [--sims 100] [--first-seed 500] [--scenarios (a)]``
(about 20 minutes for everything on 2 loaded cores; ``--sims 10`` while developing).
"""

from __future__ import annotations

import argparse
import time
import warnings
from concurrent.futures import ProcessPoolExecutor

import numpy as np
import pandas as pd

from topics.effects import effects

FORMULA = "focus + year"
LEVELS = np.array(["general", "school", "univ"])
BETA_A = {"Intercept": -1.2 - 0.06 * 2017, "focus[T.school]": 0.7, "focus[T.univ]": -0.5}
BETA_A["year"] = 0.06
SHARE_C = 0.2
PHI = 8.0
DELTA = 1.5
SHARPEN = 3.0
N_CODED = 200


def _covariates(rng, n):
    focus = LEVELS[rng.choice(3, size=n, p=[0.4, 0.3, 0.3])]
    year = rng.integers(2010, 2025, size=n)
    return focus, year


def _mu_a(focus, year):
    eta = BETA_A["Intercept"] + BETA_A["year"] * year
    eta = eta + BETA_A["focus[T.school]"] * (focus == "school")
    eta = eta + BETA_A["focus[T.univ]"] * (focus == "univ")
    return 1 / (1 + np.exp(-eta))


def pseudo_true() -> dict[str, dict[str, float]]:
    """Coefficients each item's fractional logit converges to (exact for A and C)."""
    import statsmodels.api as sm
    import statsmodels.formula.api as smf

    rng = np.random.default_rng(12345)
    focus, year = _covariates(rng, 200_000)
    mu_a = _mu_a(focus, year)
    docs = pd.DataFrame({"focus": focus, "year": year, "B": 1 - mu_a - SHARE_C})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = smf.glm("B ~ focus + year", docs, family=sm.families.Binomial()).fit()
    logit_c = float(np.log(SHARE_C / (1 - SHARE_C)))
    return {
        "A": dict(BETA_A),
        "B": {k: float(v) for k, v in fit.params.items()},
        "C": {"Intercept": logit_c, "focus[T.school]": 0.0, "focus[T.univ]": 0.0, "year": 0.0},
    }


def _softmax(logits):
    e = np.exp(logits - logits.max(1, keepdims=True))
    return e / e.sum(1, keepdims=True)


def simulate(n_docs: int, seed: int):
    """Segments with true and noisy themes, and probabilities of each kind (n_seg, 3)."""
    rng = np.random.default_rng(seed)
    focus, year = _covariates(rng, n_docs)
    mu_a = _mu_a(focus, year)
    th_a = rng.beta(PHI * mu_a, PHI * (1 - mu_a))
    r = SHARE_C / (1 - mu_a)
    th_c = (1 - th_a) * rng.beta(PHI * r, PHI * (1 - r))
    theta = np.column_stack([th_a, 1 - th_a - th_c, th_c])
    sizes = rng.integers(5, 61, size=n_docs)
    doc = np.repeat(np.arange(n_docs), sizes)
    cum = np.cumsum(theta[doc], axis=1)
    z = np.minimum((rng.random(len(doc))[:, None] >= cum).sum(1), 2)
    signal = rng.normal(size=(len(doc), 3)) + DELTA * np.eye(3)[z]
    names = np.array(["A", "B", "C"])
    # calibrated given the document's shares, and given only the corpus-wide shares
    q_doc = _softmax(np.log(np.maximum(theta[doc], 1e-300)) + DELTA * signal)
    log_corpus = np.log(theta.mean(0))[None, :] + DELTA * signal
    q_corpus = _softmax(log_corpus)
    q_sharp = _softmax(SHARPEN * log_corpus)  # overconfident: temperature 1 / SHARPEN
    seg = pd.DataFrame(
        {
            "doc_id": [f"d{i:03d}" for i in doc],
            "segment_id": [f"s{i:05d}" for i in range(len(doc))],
            "focus": focus[doc],
            "year": year[doc],
            "theme": names[q_corpus.argmax(1)],
            "true_theme": names[z],
        }
    )
    sample = rng.choice(len(doc), size=min(N_CODED, len(doc)), replace=False)
    coded = pd.DataFrame({"segment_id": seg["segment_id"].iloc[sample], "code": names[z[sample]]})
    probs = {
        "document": pd.DataFrame(q_doc, columns=names),
        "corpus": pd.DataFrame(q_corpus, columns=names),
        "sharp": pd.DataFrame(q_sharp, columns=names),
    }
    return seg, probs, coded


#: scenario -> (probabilities, method, coded paragraphs used)
SCENARIOS = {
    "certain": (None, "composition", False),
    "document-calibrated, composition": ("document", "composition", False),
    "(a) corpus-calibrated, composition (old)": ("corpus", "composition", False),
    "(a) corpus-calibrated, em (new)": ("corpus", "em", False),
    "(b) overconfident, composition (old)": ("sharp", "composition", False),
    "(b) overconfident, em without coding": ("sharp", "em", False),
    "(b) overconfident, em + coded (new)": ("sharp", "em", True),
    "(c) hard labels (old)": (None, "composition", False),
    "(c) hard labels, em + coded (new)": (None, "em", True),
}


def one(args):
    n_docs, seed, n_draws, scenarios = args
    seg, probs, coded = simulate(n_docs, seed)
    out = []
    for scenario in scenarios:
        which, method, use_coded = SCENARIOS[scenario]
        data = seg.assign(theme=seg["true_theme"]) if scenario == "certain" else seg
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            res = effects(
                data,
                FORMULA,
                probs=None if which is None else probs[which],
                n_draws=n_draws,
                random_state=seed,
                method=method,
                coded=coded if use_coded else None,
            )
        e = res.effects.assign(scenario=scenario, n=n_docs, sim=seed)
        out.append(
            e[["scenario", "n", "sim", "item", "term", "estimate", "ci_low", "ci_high", "p_value"]]
        )
    return pd.concat(out, ignore_index=True)


def cross_check(seed: int = 7, n_docs: int = 200) -> tuple[float, float]:
    """Max |difference| of estimates and standard errors vs statsmodels' formula GLM."""
    import statsmodels.api as sm
    import statsmodels.formula.api as smf

    seg = simulate(n_docs, seed)[0]
    seg = seg.assign(theme=seg["true_theme"])
    ours = effects(seg, FORMULA).effects
    docs = seg.groupby("doc_id").agg(focus=("focus", "first"), year=("year", "first"))
    shares = pd.crosstab(seg["doc_id"], seg["theme"], normalize="index")
    d_est = d_se = 0.0
    for item in ("A", "B", "C"):
        data = docs.assign(share=shares[item])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ref = smf.glm(f"share ~ {FORMULA}", data, family=sm.families.Binomial()).fit(scale="X2")
        mine = ours[ours["item"] == item].set_index("term")
        d_est = max(d_est, float(np.abs(mine["estimate"] - ref.params[mine.index]).max()))
        d_se = max(d_se, float(np.abs(mine["std_error"] - ref.bse[mine.index]).max()))
    return d_est, d_se


def summarise(table: pd.DataFrame, truth: dict) -> pd.DataFrame:
    table = table.copy()
    table["truth"] = [truth[i][t] for i, t in zip(table["item"], table["term"], strict=True)]
    table["covered"] = (table["ci_low"] <= table["truth"]) & (table["truth"] <= table["ci_high"])
    table["rejected"] = table["p_value"] < 0.05
    g = table.groupby(["scenario", "n", "item", "term"], sort=False)
    s = g.agg(
        truth=("truth", "first"),
        mean=("estimate", "mean"),
        coverage=("covered", "mean"),
        reject=("rejected", "mean"),
        runs=("estimate", "size"),
        sd=("estimate", "std"),
        failed=("estimate", lambda x: int(x.isna().sum())),
    )
    s["mc_se_bias"] = s["sd"] / np.sqrt(s["runs"]) / s["truth"].abs().where(s["truth"] != 0)
    s = s.drop(columns="sd")
    s["rel_bias"] = np.where(
        (s["truth"].abs() > 0) & ~s.index.get_level_values("term").isin(["Intercept"]),
        (s["mean"] - s["truth"]) / s["truth"].abs(),
        np.nan,
    )
    return s.reset_index()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sims", type=int, default=100)
    ap.add_argument("--sizes", default="20,100,400")
    ap.add_argument("--draws", type=int, default=20)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--first-seed", type=int, default=0, help="seeds are 1000 n + first + i")
    ap.add_argument("--scenarios", default="all", help="comma-separated prefixes, or all")
    args = ap.parse_args()
    t0 = time.perf_counter()
    truth = pseudo_true()
    d_est, d_se = cross_check()
    print(
        f"cross-check vs statsmodels formula GLM (certain assignments, 200 docs): "
        f"max |Δ estimate| = {d_est:.2e}, max |Δ std error| = {d_se:.2e}"
    )
    scenarios = [
        s
        for s in SCENARIOS
        if args.scenarios == "all" or any(s.startswith(p) for p in args.scenarios.split(","))
    ]
    sizes = [int(s) for s in args.sizes.split(",")]
    tasks = [
        (n, 1000 * n + args.first_seed + s, args.draws, scenarios)
        for n in sizes
        for s in range(args.sims)
    ]
    with ProcessPoolExecutor(args.workers) as pool:
        table = pd.concat(pool.map(one, tasks, chunksize=2), ignore_index=True)
    s = summarise(table, truth)
    pd.set_option("display.width", 200)
    pd.set_option("display.max_rows", 1000)
    lines = []
    for scenario in scenarios:
        sub = s[s["scenario"] == scenario]
        print(f"\n== {scenario} ({args.sims} corpora per size) ==")
        print(sub.drop(columns=["scenario"]).round(3).to_string(index=False))
        null = sub[(sub["item"] == "C") & (sub["term"] != "Intercept")]
        planted = sub[(sub["item"] == "A") & (sub["term"] != "Intercept")]
        for n in sizes:
            at = planted[planted["n"] == n]
            worst = at.loc[at["rel_bias"].abs().idxmax()]
            lines.append(
                f"| {scenario} | {n} | {sub[sub['n'] == n]['coverage'].min():.2f} | "
                f"{null[null['n'] == n]['reject'].mean():.3f} | "
                f"{worst['rel_bias']:+.3f} (MC s.e. {worst['mc_se_bias']:.3f}) | "
                f"{int(sub[sub['n'] == n]['failed'].sum())} |"
            )
    print(
        "\n| scenario | docs | min coverage | false positives (C) | worst bias / effect (A) "
        "| failed fits |"
    )
    print("|---|---|---|---|---|---|")
    print("\n".join(lines))
    print(f"\ntotal {time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()
