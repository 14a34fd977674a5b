"""Topic-word quality on fixed clusters: coherence, diversity, function words, stem duplicates.

Each benchmark corpus is run once through ``topics run`` (default settings, seed 0); its
``segments.csv`` (text, language, document, topic) is kept under ``--runs`` and reused, so the
clusters are fixed and only the word selection is measured. On those clusters the script
computes the top-10 words of every topic with

- ``ours``: :func:`topics.labels.topic_words` (what ``topics run`` writes to ``topics.csv``);
- ``ref``: plain c-TF-IDF, ``CountVectorizer`` (lowercase, a token is two or more letters, no
  digits) with spaCy's Kyrgyz stop words removed, and BERTopic's ``ClassTfidfTransformer()``
  with its defaults, one class per topic (outliers included as a class, as in BERTopic);

and for each word list (outlier topic excluded):

- ``npmi``: NPMI of every pair of a topic's top-10 words, document co-occurrence over the
  run's documents (OCTIS/gensim formula, ``eps = 1e-12``; a pair that never co-occurs scores
  -1), averaged over pairs then topics; ``npmi6``: the same with every token cut to its first
  6 letters (fairer to Kyrgyz: ``мектептерде`` and ``мектеби`` both count as ``мектеп``);
- ``div``: topic diversity (unique words / all top words, OCTIS);
- ``func``: share of top words that are stop words (:func:`topics.words.stopwords`) of the
  corpus languages, English or Russian, or in spaCy's Kyrgyz list;
- ``dup``: share of top words whose 6-letter prefix repeats an earlier word of the same topic
  (``мектеп``, ``мектептер``);
- ``df``: median share of the run's documents that contain a top word (exact token).

Documents are the corpus's files when it has at least 100 of them (articles), otherwise its
segments (paragraphs).

Corpora: SIB-200 pseudo-news articles in Kyrgyz, Mongolian and Russian (``articles-*``, see
``bench_articles.py``: 3-5 unrelated sentences of one category, one sentence per paragraph),
SIB-200 one file per language (all five languages, see ``bench_sib200.py --via-run
per-language``), the seed corpus (with ``codebook.toml``) and, not in the default set,
FLORES news in Kyrgyz, Mongolian, Russian, Tajik and English (``news-*``,
:func:`build_news`: FLORES's own articles re-assembled, ~380 articles whose sentences tell
one story, ~20 topics: the closest proxy of real news here).

``ours`` gets each segment's file as ``groups`` (as ``topics run`` passes its documents);
``--opt documents=0`` leaves them out, ``--opt coherence=0`` ranks by weight alone.

Usage::

    nice python experiments/bench_words.py [--corpora articles-ky,news-ky,sib-files,seeds]
        [--runs DIR] [--show 3] [--previous] [--opt coherence=0]
"""

from __future__ import annotations

import argparse
import itertools
import re
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
SIB = ROOT.parent / "shared" / "eval" / "sib200"
sys.path.insert(0, str(ROOT / "experiments"))

CORPORA = ("articles-ky", "articles-mn", "articles-ru", "sib-files", "seeds")
# Also available: the coherent "news" corpora (see build_news), not in the default set.
NEWS = ("news-ky", "news-mn", "news-ru", "news-tg", "news-en")
ARTICLE_LANGS = {"articles-ky": "kir_Cyrl", "articles-mn": "khk_Cyrl", "articles-ru": "rus_Cyrl"}
NEWS_LANGS = {"news-ky": "kir_Cyrl", "news-mn": "khk_Cyrl", "news-ru": "rus_Cyrl",
              "news-tg": "tgk_Cyrl", "news-en": "eng_Latn"}  # fmt: skip


# --------------------------------------------------------------------------- corpora


def build_news(lang: str, folder: Path, max_gap: int = 2) -> int:
    """Coherent pseudo-news in one language: FLORES's own articles, re-assembled.

    FLORES-200 took its sentences in runs of consecutive sentences from each source article,
    and SIB-200 kept their order (``index_id``). Sentences of one category whose ids are at
    most ``max_gap`` apart are joined into one article (one sentence per paragraph), so an
    article's sentences tell one story, as in real news (the ``articles-*`` corpora join
    unrelated sentences of a category). Returns the number of articles (~380 of 1-21
    sentences, mean 2.7).
    """
    frames = [pd.read_csv(SIB / lang / f"{s}.tsv", sep="\t", quoting=3)
              for s in ("train", "dev", "test")]  # fmt: skip
    data = pd.concat(frames).sort_values("index_id").reset_index(drop=True)
    new = (data["category"] != data["category"].shift()) | (data["index_id"].diff() > max_gap)
    article = new.cumsum() - 1
    folder.mkdir(parents=True)
    for k, group in data.groupby(article):
        (folder / f"n{k:04d}.txt").write_text("\n\n".join(group["text"]) + "\n", "utf-8")
    return int(article.max()) + 1


def build_corpus(name: str, folder: Path) -> list[str]:
    """Write corpus ``name`` to ``folder``; returns the extra ``topics run`` arguments."""
    if name in NEWS_LANGS:
        build_news(NEWS_LANGS[name], folder)
        return []
    if name in ARTICLE_LANGS:
        import bench_articles

        bench_articles.build(SIB, ARTICLE_LANGS[name], folder, seed=0, layout="paragraphs")
        return []
    if name == "sib-files":
        import bench_sib200

        folder.mkdir(parents=True)
        for code, df in bench_sib200.load_sib(SIB).items():
            (folder / f"{code}.txt").write_text("\n\n".join(df["text"]) + "\n", "utf-8")
        return []
    if name == "seeds":
        return ["--themes", str(ROOT / "experiments" / "codebook.toml")]
    raise SystemExit(f"unknown corpus {name!r}; choose from {', '.join(CORPORA + NEWS)}")


def clustered(name: str, runs: Path) -> pd.DataFrame:
    """Modelled segments of corpus ``name`` (``text``, ``language``, ``doc_id``, ``topic``).

    Runs ``topics run`` the first time and keeps its ``segments.csv`` under ``runs``.
    """
    saved = runs / f"{name}.csv"
    if not saved.is_file():
        with tempfile.TemporaryDirectory() as tmp:
            corpus = ROOT / "seeds" if name == "seeds" else Path(tmp) / "corpus"
            extra = build_corpus(name, corpus)
            out = Path(tmp) / "run"
            cmd = [sys.executable, "-m", "topics.cli", "run", str(corpus), "--out", str(out),
                   "--quiet", "--no-report", "--seed", "0", *extra]  # fmt: skip
            print(f"{name}: topics run ...", file=sys.stderr)
            proc = subprocess.run(cmd, capture_output=True, text=True)
            if proc.returncode:
                sys.exit(proc.stderr[-3000:])
            seg = pd.read_csv(out / "segments.csv", keep_default_na=False, dtype={"doc_id": str})
            runs.mkdir(parents=True, exist_ok=True)
            seg[["doc_id", "language", "text", "topic", "theme"]].to_csv(saved, index=False)
    seg = pd.read_csv(saved, keep_default_na=False, dtype={"doc_id": str, "theme": str})
    seg = seg[seg["topic"].astype(str) != ""].reset_index(drop=True)
    seg["topic"] = seg["topic"].astype(int)
    return seg


# --------------------------------------------------------------------------- word lists

_WORD = re.compile(r"[^\W\d_]+(?:['-][^\W\d_]+)*")
_PART = re.compile(r"[^\W\d_]+")
REF_TOKENS = r"(?u)\b[^\W\d_][^\W\d_]+\b"  # CountVectorizer's default, letters only


def reference_words(seg: pd.DataFrame, n: int = 10) -> dict[int, list[str]]:
    """Plain c-TF-IDF: CountVectorizer (spaCy Kyrgyz stop words) + ClassTfidfTransformer()."""
    from bertopic.vectorizers import ClassTfidfTransformer
    from sklearn.feature_extraction.text import CountVectorizer
    from spacy.lang.ky.stop_words import STOP_WORDS

    joined = seg.groupby("topic")["text"].agg(" ".join)
    vec = CountVectorizer(token_pattern=REF_TOKENS, stop_words=sorted(STOP_WORDS))
    weights = ClassTfidfTransformer().fit_transform(vec.fit_transform(joined.tolist()))
    weights = np.asarray(weights.todense())
    vocab = vec.get_feature_names_out()
    out = {}
    for row, k in enumerate(joined.index):
        order = np.argsort(-weights[row], kind="stable")[:n]
        out[int(k)] = [str(vocab[j]) for j in order if weights[row, j] > 0]
    return out


def previous_words(seg: pd.DataFrame, n: int = 10) -> dict[int, list[str]]:
    """The words before this benchmark: BERTopic's c-TF-IDF (reduce_frequent_words) on stems."""
    from bertopic.vectorizers import ClassTfidfTransformer
    from sklearn.feature_extraction.text import CountVectorizer

    from topics import words

    analyzer = words.make_analyzer(sorted(set(seg["language"])))
    joined = seg.groupby("topic")["text"].agg(" ".join)
    vec = CountVectorizer(analyzer=analyzer)
    ctfidf = ClassTfidfTransformer(reduce_frequent_words=True)
    weights = np.asarray(ctfidf.fit_transform(vec.fit_transform(joined.tolist())).todense())
    vocab = vec.get_feature_names_out()
    surface = words.SurfaceForms(seg["text"].tolist(), analyzer=analyzer).surface
    out = {}
    for row, k in enumerate(joined.index):
        shown: list[str] = []
        for j in np.argsort(-weights[row], kind="stable")[: n * 3]:
            word = surface(vocab[j])
            if weights[row, j] > 0 and word not in shown and len(shown) < n:
                shown.append(word)
        out[int(k)] = shown
    return out


def our_words(seg: pd.DataFrame, n: int = 10, **opts) -> dict[int, list[str]]:
    """What ``topics run`` writes to ``topics.csv`` (:func:`topics.labels.topic_words`).

    ``topics run`` passes each segment's document/article as ``groups``; ``documents=0``
    leaves them out (co-occurrence in paragraphs).
    """
    from topics.labels import topic_words

    groups = seg["doc_id"] if opts.pop("documents", 1) else None
    for key in ("min_df", "pool"):
        if key in opts:
            opts[key] = int(opts[key])
    texts, topics = seg["text"].tolist(), seg["topic"].to_numpy()
    tw = topic_words(texts, topics, seg["language"], n=n, groups=groups, **opts)
    return tw.words


# --------------------------------------------------------------------------- measures


def documents(seg: pd.DataFrame) -> list[str]:
    """The co-occurrence units: files when there are at least 100, else paragraphs."""
    if seg["doc_id"].nunique() >= 100:
        return seg.groupby("doc_id", sort=True)["text"].agg("\n".join).tolist()
    return seg["text"].tolist()


def token_sets(docs: Sequence[str], prefix: int = 0) -> list[set[str]]:
    """Lowercase word tokens of each document (hyphenated words also as their parts)."""
    out = []
    for doc in docs:
        low = doc.lower()
        toks = set(_WORD.findall(low)) | set(_PART.findall(low))
        out.append({t[:prefix] for t in toks} if prefix else toks)
    return out


def npmi(topic_words: Sequence[str], docs: Sequence[set[str]], prefix: int = 0) -> float:
    """Mean NPMI over word pairs, boolean document co-occurrence (OCTIS / gensim c_npmi)."""
    eps = 1e-12
    ws = [w[:prefix] if prefix else w for w in topic_words]
    has = {w: np.array([w in d for d in docs]) for w in set(ws)}
    vals = []
    for a, b in itertools.combinations(range(len(ws)), 2):
        pa, pb = has[ws[a]].mean(), has[ws[b]].mean()
        pab = float(np.mean(has[ws[a]] & has[ws[b]]))
        if pa * pb == 0:
            vals.append(-1.0)
            continue
        vals.append(np.log((pab + eps) / (pa * pb)) / -np.log(pab + eps))
    return float(np.mean(vals)) if vals else float("nan")


def function_words(langs: Sequence[str]) -> frozenset[str]:
    """Stop words of the corpus languages, English and Russian, and spaCy's Kyrgyz list."""
    from spacy.lang.ky.stop_words import STOP_WORDS

    from topics import words

    own = frozenset().union(*(words.stopwords(g) for g in {*langs, "en", "ru"}))
    return own | (frozenset(STOP_WORDS) - words.KY_SPACY_CONTENT)


def measure(lists: dict[int, list[str]], seg: pd.DataFrame) -> dict[str, float]:
    lists = {k: v for k, v in lists.items() if k >= 0}
    docs = documents(seg)
    exact, pre = token_sets(docs), token_sets(docs, 6)
    stop = function_words(sorted(set(seg["language"])))
    all_words = [w for ws in lists.values() for w in ws]
    dups = 0
    for ws in lists.values():
        seen: set[str] = set()
        for w in ws:
            dups += w[:6] in seen
            seen.add(w[:6])
    df = [np.mean([w in d for d in exact]) for w in all_words]
    per_topic = [npmi(ws, exact) for ws in lists.values()]
    return {
        "topics": len(lists),
        "npmi": float(np.nanmean(per_topic)),
        "npmi6": float(np.nanmean([npmi(ws, pre, 6) for ws in lists.values()])),
        "div": len(set(all_words)) / max(len(all_words), 1),
        "func": float(np.mean([w in stop for w in all_words])) if all_words else 0.0,
        "dup": dups / max(len(all_words), 1),
        "df": float(np.median(df)) if df else float("nan"),
        "_per_topic": per_topic,
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpora", default=",".join(CORPORA))
    ap.add_argument("--runs", type=Path, default=Path(tempfile.gettempdir()) / "topics_bench_words")
    ap.add_argument("--show", type=int, default=0, help="print the words of N topics per corpus")
    ap.add_argument("--previous", action="store_true", help="also measure the previous words")
    ap.add_argument("--opt", action="append", default=[], metavar="NAME=VALUE",
                    help="a topic_words option for 'ours', e.g. coherence=0")  # fmt: skip
    args = ap.parse_args(argv)
    opts = {}
    for item in args.opt:
        name, _, value = item.partition("=")
        opts[name.strip()] = value if name.strip() == "method" else float(value)
    rows = []
    for name in [c.strip() for c in args.corpora.split(",") if c.strip()]:
        seg = clustered(name, args.runs)
        lists = {"ours": our_words(seg, **opts), "ref": reference_words(seg)}
        if args.previous:
            lists["previous"] = previous_words(seg)
        measured = {kind: measure(ws, seg) for kind, ws in lists.items()}
        for kind, m in measured.items():
            row = {"corpus": name, "words": kind, **{k: v for k, v in m.items() if k[0] != "_"}}
            if kind != "ref":
                ours_t, ref_t = m["_per_topic"], measured["ref"]["_per_topic"]
                row["wins"] = (
                    f"{sum(a >= b for a, b in zip(ours_t, ref_t, strict=True))}/{len(ref_t)}"
                )
            rows.append(row)
        for k in sorted(k for k in lists["ours"] if k >= 0)[: args.show]:
            for kind, ws in lists.items():
                print(f"{name} {k} {kind:>8}: {', '.join(ws[k])}")
    table = pd.DataFrame(rows).set_index(["corpus", "words"])
    with pd.option_context("display.width", 200, "display.max_columns", 20):
        print(table.round(3).to_string())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
