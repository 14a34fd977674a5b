"""Development draws of the third few-shot session (issue 13): the methods tried and rejected.

Held-out any-label accuracy / macro-F1 (as in ``bench_coding.py``) of few-shot variants on
**development draws only** (never ``--draw-seed 2026 --codebook-seed 2026``):

- the seed codebook, 10 random sheets of 30 (sheet seed 1000);
- 6 reduced codebooks (codebook seed 7, as ``bench_coding.reduced_themes``), 3 sheets each;
- 6 "absorbing" codebooks (a random theme takes a neighbour's description and half its
  keywords; seed 11), 3 sheets each;
- an imitation of the consortium's codebook (distance learning gains "digital tools, internet,
  computers"; digital literacy and infrastructure keep only their English keywords), 10 sheets.

Methods (all on top of the run's combined codebook scores):

- ``zero``: zero-shot; ``offsets``: the current ``--coded`` method (``few_shot``);
- ``pca_logit``: offsets plus a logit on the first d principal components of the embeddings,
  both penalties chosen by document cross-validation;
- ``lda``: offsets plus a shrunken-centroid discriminant in the same projection, its weight
  chosen by document cross-validation;
- ``prune_nearest``: prototypes whose nearest coded paragraphs have another code are dropped;
- ``prune_blamed``: prototypes that carried a wrong theme on a coded paragraph (and no right
  one) are dropped;
- ``graph``: ``bench_coding.graph_smoothed`` (offsets, then label propagation over the
  embedding neighbours with the codes clamped).

``--zero-shot`` scores hubness corrections of the zero-shot scores on all labelled paragraphs
(CSLS per prototype, inverted softmax per theme). ``--replicate`` repeats ``offsets`` vs
``graph`` on fresh development draws (sheet seeds 5000-8000) with paired differences.

Usage::

    python experiments/dev_coding_ideas.py [--methods zero offsets graph ...] [--zero-shot]
        [--replicate]
"""

from __future__ import annotations

import argparse
import sys
import tomllib
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.optimize import minimize
from scipy.special import logsumexp

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_coding import graph_smoothed, labelled, reduced_themes  # noqa: E402
from bench_seeds import theme_metrics  # noqa: E402

TAU = 0.01


class Inputs:
    """The seed corpus's modelled paragraphs, embeddings and labels; codebook components."""

    def __init__(self):
        from topics import embed
        from topics import themes as th
        from topics.config import RunConfig
        from topics.corpus import load_corpus
        from topics.ingest import segments_from_corpus
        from topics.words import make_analyzer

        cfg = RunConfig(corpus=str(ROOT / "seeds"))
        seg = segments_from_corpus(
            load_corpus(cfg.corpus),
            max_chars=cfg.ingest.max_chars,
            min_chars=cfg.ingest.min_chars,
        ).segments
        modelled = seg["section"].isin(cfg.topics.sections) & (seg["n_chars"] >= 20)
        idx = np.flatnonzero(modelled.to_numpy())
        self.texts = seg["text"].iloc[idx].tolist()
        self.backend = embed.get_backend(cfg.embed.model)
        self.vectors = np.asarray(
            embed.embed_texts(self.texts, self.backend, kind="passage"), dtype=np.float64
        )
        self.groups = (seg["doc_id"].astype(str) + "/" + seg["article"].astype(str)).iloc[idx]
        self.docs = seg["doc_id"].astype(str).iloc[idx].to_numpy()
        self.analyzer = make_analyzer(sorted(set(seg["language"].iloc[idx])))
        ids = seg["segment_id"].astype(str).to_numpy()[idx]
        pos = {s: i for i, s in enumerate(ids)}
        labels = pd.read_csv(
            ROOT / "experiments" / "seed_labels.csv", dtype=str, keep_default_na=False
        )
        self.lab = labelled(seg, idx, labels)
        self.lab["pos"] = [pos[s] for s in self.lab["segment_id"]]
        self.segs = self.lab.drop_duplicates("segment_id")[["segment_id", "code", "pos"]]
        self.full = tomllib.loads((ROOT / "experiments" / "codebook.toml").read_text("utf-8"))[
            "theme"
        ]
        self.names = [t["name"] for t in self.full]
        self.th, self.embed = th, embed

    def components(self, themes) -> dict:
        q_texts, owner = self.th.theme_queries(themes)
        queries = [
            np.asarray(self.embed.embed_texts(q_texts, self.backend, kind=k), dtype=np.float64)
            for k in ("query", "passage")
        ]
        lexical = self.th.lexical_scores(self.texts, themes, self.analyzer)
        return {"Q": queries, "owner": owner, "lex": lexical, "T": len(themes)}

    def combined(self, comp: dict, proto: np.ndarray | None = None) -> np.ndarray:
        if proto is None:
            proto = self.th.codebook_scores(self.vectors, comp["Q"], comp["owner"], comp["T"])
        return self.th.combine_scores(proto, comp["lex"], groups=self.groups.tolist())

    def sheets(self, n: int, reps: int, seed: int) -> list[pd.DataFrame]:
        rng = np.random.default_rng(seed)
        return [
            self.segs.iloc[np.sort(rng.choice(len(self.segs), n, replace=False))]
            for _ in range(reps)
        ]

    def score(self, theme: list[str], pick: pd.DataFrame | None = None) -> tuple[float, float]:
        held = (
            self.lab if pick is None else self.lab[~self.lab["segment_id"].isin(pick["segment_id"])]
        )
        m = theme_metrics([theme[p] for p in held["pos"]], held["gold"].tolist())
        return m["accuracy"], m["macro_f1"]


def absorbing(full: list[dict], rng: np.random.Generator):
    """A random theme takes over a neighbour's description and half its keywords."""
    from topics.themes import Theme

    out = [dict(t) for t in full]
    a = int(rng.integers(len(out)))
    b = (a + (1 if rng.random() < 0.5 else -1)) % len(out)
    kw = list(out[b].get("keywords", []))
    take = [kw[j] for j in sorted(rng.choice(len(kw), len(kw) // 2, replace=False))]
    out[a] = {
        "name": out[a]["name"],
        "description": out[a].get("description", "") + "; " + out[b].get("description", ""),
        "keywords": list(out[a].get("keywords", [])) + take,
    }
    out[b] = {**out[b], "keywords": [k for k in kw if k not in take]}
    return [Theme(t["name"], t.get("description", ""), tuple(t.get("keywords", []))) for t in out]


def consortium_like(full: list[dict]):
    from topics.themes import Theme

    out = []
    for t in full:
        desc, kw = t.get("description", ""), list(t.get("keywords", []))
        if t["name"] == "distance learning":
            desc += ", digital tools, internet, computers"
        if t["name"] in ("digital literacy", "infrastructure"):
            kw = [k for k in kw if k.isascii()]
        out.append(Theme(t["name"], desc, tuple(kw)))
    return out


def codebooks(inp: Inputs) -> dict:
    rng = np.random.default_rng(7)
    cbs = {"seed": inp.th.load_codebook(ROOT / "experiments" / "codebook.toml")}
    for i in range(6):
        cbs[f"reduced{i}"] = reduced_themes(inp.full, rng)
    rng = np.random.default_rng(11)
    for i in range(6):
        cbs[f"absorbing{i}"] = absorbing(inp.full, rng)
    cbs["consortium"] = consortium_like(inp.full)
    return cbs


# --------------------------------------------------------------------------- methods


def _names(inp, pick_idx):
    return [inp.names[p] if p < len(inp.names) else "" for p in pick_idx]


def _offsets(inp, s, rows, labs):
    th = inp.th
    l2, _ = th.choose_shrinkage(s, rows, labs, inp.docs[rows])
    return th.theme_offsets(s, rows, labs, l2=l2)


def m_zero(inp, comp, s, rows, labs):
    return inp.th.assign_themes(s, inp.names).theme


def m_offsets(inp, comp, s, rows, labs):
    return inp.th.assign_themes(s, inp.names, offsets=_offsets(inp, s, rows, labs)).theme


def m_graph(inp, comp, s, rows, labs, alpha=0.3):
    off = _offsets(inp, s, rows, labs)
    return graph_smoothed(s, inp.names, inp.vectors, rows, labs, off, alpha=alpha)


def _pca(v: np.ndarray, d: int) -> np.ndarray:
    x = v - v.mean(0)
    z = x @ np.linalg.svd(x, full_matrices=False)[2][:d].T
    return z / z.std(0)


def _logit_features(x, z, y, l2, lw):
    n, k = y.shape
    d = z.shape[1]

    def f(q):
        a, b, w = q[0], q[1 : k + 1], q[k + 1 :].reshape(d, k)
        s = a * x + b + z @ w
        lse = logsumexp(s, axis=1, keepdims=True)
        g = np.exp(s - lse) - y
        val = -np.sum(y * (s - lse)) + l2 * (b @ b + (a - 1) ** 2) + lw * np.sum(w * w)
        grad = np.r_[
            np.sum(g * x) + 2 * l2 * (a - 1), g.sum(0) + 2 * l2 * b, (z.T @ g + 2 * lw * w).ravel()
        ]
        return val, grad

    bounds = [(0.05, None)] + [(None, None)] * (k + d * k)
    q = minimize(f, np.r_[1.0, np.zeros(k + d * k)], jac=True, method="L-BFGS-B", bounds=bounds).x
    return q[0], q[1 : k + 1], q[k + 1 :].reshape(d, k)


PCA_GRID = [(np.inf, np.inf), (10, np.inf), (3, np.inf), (1, np.inf), (3, 30), (3, 10)]
PCA_GRID += [(1, 10), (1, 3), (3, 100), (1, 30)]


def m_pca_logit(inp, comp, s, rows, labs, d=10):
    from topics._fewshot import _fold_ids, _with_none

    z_all = _pca(inp.vectors, d)
    full = _with_none(s, 3.0)
    k = full.shape[1]

    def fitpred(tr, te, l2, lw):
        if np.isinf(l2) and np.isinf(lw):
            return full[te] / TAU
        y = np.zeros((len(tr), k))
        y[np.arange(len(tr)), labs[tr]] = 1
        x = full[rows[tr]] / TAU
        x = x - x.max(1, keepdims=True)
        use = np.isfinite(lw)
        ztr = z_all[rows[tr]] if use else np.zeros((len(tr), 0))
        a, b, w = _logit_features(x, ztr, y, l2 if np.isfinite(l2) else 1e6, lw if use else 0.0)
        zte = z_all[te] if use else np.zeros((len(te), 0))
        return a * full[te] / TAU + b + zte @ w

    fid = _fold_ids(inp.docs[rows], 10)
    best, best_ll = PCA_GRID[0], -np.inf
    for l2, lw in PCA_GRID:
        ll = 0.0
        for f in np.unique(fid):
            te = fid == f
            z = fitpred(np.flatnonzero(~te), rows[te], l2, lw)
            ll += (z - logsumexp(z, axis=1, keepdims=True))[np.arange(te.sum()), labs[te]].sum()
        if ll > best_ll + 1e-9:
            best, best_ll = (l2, lw), ll
    return _names(inp, fitpred(np.arange(len(rows)), np.arange(len(s)), *best).argmax(1))


def m_lda(inp, comp, s, rows, labs, d=10, lam=3.0, gammas=(0.0, 0.1, 0.3, 1.0)):
    from topics._fewshot import _fold_ids, _with_none

    z_all = _pca(inp.vectors, d)
    full = _with_none(s, 3.0)
    k = full.shape[1]

    def disc(tr_rows, tr_labs):
        m = z_all.mean(0)
        mus = np.tile(m, (k, 1))
        resid = []
        for c in range(k):
            sel = tr_rows[tr_labs == c]
            if len(sel):
                xb = z_all[sel].mean(0)
                mus[c] = m + len(sel) / (len(sel) + lam) * (xb - m)
                resid.append(z_all[sel] - xb)
        var = np.concatenate(resid).var() if sum(len(r) for r in resid) > k else 1.0
        return -((z_all[:, None, :] - mus[None]) ** 2).sum(-1) / (2 * max(var, 1e-3))

    fid = _fold_ids(inp.docs[rows], 10)
    best, best_ll = 0.0, -np.inf
    for g in gammas:
        ll = 0.0
        for f in np.unique(fid):
            te, tr = fid == f, fid != f
            off = _offsets(inp, s, rows[tr], labs[tr])
            z = (full[rows[te]] + off) / TAU + g * disc(rows[tr], labs[tr])[rows[te]]
            ll += (z - logsumexp(z, axis=1, keepdims=True))[np.arange(te.sum()), labs[te]].sum()
        if ll > best_ll + 1e-9:
            best, best_ll = g, ll
    z = (full + _offsets(inp, s, rows, labs)) / TAU + best * disc(rows, labs)
    return _names(inp, z.argmax(1))


def _pruned(inp, comp, keep):
    proto = inp.th.codebook_scores(
        inp.vectors, [q[keep] for q in comp["Q"]], comp["owner"][keep], comp["T"]
    )
    return inp.combined(comp, proto)


def m_prune_nearest(inp, comp, s, rows, labs, m=3):
    sims = np.mean([inp.vectors[rows] @ q.T for q in comp["Q"]], axis=0)
    owner = comp["owner"]
    keep = np.ones(len(owner), bool)
    for t in range(comp["T"]):
        qs = np.flatnonzero(owner == t)
        bad = []
        for q in qs:
            top = labs[np.argsort(-sims[:, q])[:m]]
            others = [np.sum(top == v) for v in set(top) if v != t]
            if np.mean(top == t) < 0.34 and max(others, default=0) / m >= 2 / 3:
                bad.append(q)
        if len(qs) - len(bad) >= 2:
            keep[bad] = False
    return m_offsets(inp, comp, _pruned(inp, comp, keep), rows, labs)


def m_prune_blamed(inp, comp, s, rows, labs, top_k=3):
    pred = s[rows].argmax(1)
    sims = np.mean([inp.vectors[rows] @ q.T for q in comp["Q"]], axis=0)
    owner = comp["owner"]
    blame, credit = np.zeros(len(owner)), np.zeros(len(owner))
    for i, (p, y) in enumerate(zip(pred, labs, strict=True)):
        qs = np.flatnonzero(owner == p)
        top = qs[np.argsort(-sims[i, qs])[:top_k]]
        if y == p:
            credit[top] += 1
        elif y < comp["T"]:
            blame[top] += 1
    keep = np.ones(len(owner), bool)
    for t in range(comp["T"]):
        qs = np.flatnonzero(owner == t)
        bad = qs[(blame[qs] >= 1) & (credit[qs] == 0)]
        if len(qs) - len(bad) >= 2:
            keep[bad] = False
    return m_offsets(inp, comp, _pruned(inp, comp, keep), rows, labs)


METHODS = {
    "zero": m_zero,
    "offsets": m_offsets,
    "pca_logit": m_pca_logit,
    "lda": m_lda,
    "prune_nearest": m_prune_nearest,
    "prune_blamed": m_prune_blamed,
    "graph": m_graph,
}


def draws(inp: Inputs, replicate: bool = False):
    if replicate:
        out = [("seed", "seed", p) for p in inp.sheets(30, 30, 5000)]
        out += [
            (f"reduced{i}", "reduced", p) for i in range(6) for p in inp.sheets(30, 8, 6000 + i)
        ]
        out += [
            (f"absorbing{i}", "absorbing", p) for i in range(6) for p in inp.sheets(30, 8, 7000 + i)
        ]
        return out + [("consortium", "consortium", p) for p in inp.sheets(30, 30, 8000)]
    out = [("seed", "seed", p) for p in inp.sheets(30, 10, 1000)]
    out += [(f"reduced{i}", "reduced", p) for i in range(6) for p in inp.sheets(30, 3, 2000 + i)]
    out += [
        (f"absorbing{i}", "absorbing", p) for i in range(6) for p in inp.sheets(30, 3, 3000 + i)
    ]
    return out + [("consortium", "consortium", p) for p in inp.sheets(30, 10, 4000)]


def run_methods(inp, comps, scores, methods, replicate=False) -> pd.DataFrame:
    recs = []
    for key, group, pick in draws(inp, replicate):
        rows = pick["pos"].to_numpy()
        labs = np.array(
            [inp.names.index(c) if c in inp.names else len(inp.names) for c in pick["code"]]
        )
        for m in methods:
            acc, f1 = inp.score(METHODS[m](inp, comps[key], scores[key], rows, labs), pick)
            recs.append({"method": m, "group": group, "key": key, "acc": acc, "f1": f1})
    return pd.DataFrame(recs)


# --------------------------------------------------------------------------- zero-shot


def csls_proto(inp, comp, beta, k, top_k=3):
    th = inp.th
    parts = []
    for q in comp["Q"]:
        sims = inp.vectors @ q.T
        sims = sims - beta * np.sort(sims, axis=0)[-k:].mean(axis=0)[None, :]
        out = np.zeros((len(sims), comp["T"]))
        for t in range(comp["T"]):
            cols = np.sort(sims[:, comp["owner"] == t], axis=1)
            out[:, t] = cols[:, -min(top_k, cols.shape[1]) :].mean(axis=1)
        parts.append(out - 0.5 * th.prototype_bias(q, comp["owner"], comp["T"])[None, :])
    return np.mean(parts, axis=0)


def zero_shot(inp, comps):
    variants = {"none (current)": lambda c: inp.combined(c)}
    for beta in (0.1, 0.25, 0.5, 1.0):
        for k in (5, 10, 20, 40, 80, 164):
            variants[f"CSLS beta={beta} K={k}"] = lambda c, b=beta, k=k: inp.combined(
                c, csls_proto(inp, c, b, k)
            )
    for t in (0.005, 0.01, 0.02, 0.05, 0.1, 0.3):
        variants[f"inverted softmax T={t}"] = lambda c, t=t: (
            inp.combined(c) - t * logsumexp(inp.combined(c) / t, axis=0, keepdims=True)
        )
    recs = []
    for name, fn in variants.items():
        for key, comp in comps.items():
            acc, f1 = inp.score(inp.th.assign_themes(fn(comp), inp.names).theme)
            recs.append({"variant": name, "group": key.rstrip("0123456789"), "acc": acc, "f1": f1})
    return pd.DataFrame(recs)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--methods", nargs="+", default=list(METHODS), choices=list(METHODS))
    ap.add_argument("--zero-shot", action="store_true", help="hubness corrections of zero-shot")
    ap.add_argument("--replicate", action="store_true", help="offsets vs graph, fresh draws")
    args = ap.parse_args(argv)
    pd.set_option("display.width", 200)
    inp = Inputs()
    cbs = codebooks(inp)
    comps = {k: inp.components(v) for k, v in cbs.items()}
    scores = {k: inp.combined(c) for k, c in comps.items()}
    order = ["seed", "reduced", "absorbing", "consortium"]
    if args.zero_shot:
        z = zero_shot(inp, comps).groupby(["variant", "group"], sort=False)[["acc", "f1"]].mean()
        print(z.unstack("group").round(3).reindex(columns=order, level=1).to_string())
    methods = ["offsets", "graph"] if args.replicate else args.methods
    res = run_methods(inp, comps, scores, methods, replicate=args.replicate)
    table = res.groupby(["method", "group"], sort=False)[["acc", "f1"]].mean().unstack("group")
    print(table.round(3).reindex(columns=order, level=1).to_string())
    if args.replicate:
        a = res[res["method"] == "offsets"].reset_index(drop=True)
        b = res[res["method"] == "graph"].reset_index(drop=True)
        d = b[["acc", "f1"]] - a[["acc", "f1"]]
        d["group"] = a["group"]
        for g, x in d.groupby("group", sort=False):
            se = x["acc"].std() / np.sqrt(len(x))
            print(
                f"graph - offsets, {g}: accuracy {x['acc'].mean():+.3f} ± {se:.3f}, "
                f"macro-F1 {x['f1'].mean():+.3f} ({len(x)} sheets)"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
