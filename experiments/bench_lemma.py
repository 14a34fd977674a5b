"""Kyrgyz lemmatiser accuracy on the UD Kyrgyz-KTMU treebank.

Reads CoNLL-U files (column 2 FORM, column 3 LEMMA, column 4 UPOS) and prints token-level
lemma accuracy (lowercased) of (a) the identity baseline (lemma = form) and (b)
``topics.words.lemmatize_ky``, for nouns (NOUN, PROPN), verbs, and all word tokens
(punctuation, symbols and numbers excluded), plus the accuracy over the set of distinct
(form, lemma) pairs. The treebank has only ``train`` and ``test`` files (no ``dev``): rules
were designed looking at ``train``; ``test`` is the held-out figure.

Usage::

    python experiments/bench_lemma.py [--path DIR] [--split train|test|all] [--errors N]
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from pathlib import Path

from topics.words import lemmatize_ky

DEFAULT = Path(__file__).resolve().parents[1].parent / "shared/eval/ud_kyrgyz_ktmu"
SKIP_POS = {"PUNCT", "SYM", "NUM", "X"}


def read_conllu(path: Path) -> list[tuple[str, str, str]]:
    """(form, lemma, upos) of every syntactic word of a CoNLL-U file, lowercased."""
    rows = []
    with path.open(encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            parts = line.rstrip("\n").split("\t")
            if len(parts) != 10 or not parts[0].isdigit():
                continue
            if not parts[1] or not parts[2]:
                raise SystemExit(f"{path}:{n}: empty FORM or LEMMA column")
            rows.append((parts[1].lower(), parts[2].lower(), parts[3]))
    return rows


def score(rows: list[tuple[str, str, str]], fn) -> dict[str, float]:
    groups = {
        "nouns": [r for r in rows if r[2] in ("NOUN", "PROPN")],
        "verbs": [r for r in rows if r[2] == "VERB"],
        "all": rows,
    }
    out = {k: sum(fn(f) == lem for f, lem, _ in g) / max(len(g), 1) for k, g in groups.items()}
    distinct = {(f, lem) for f, lem, _ in rows}
    out["distinct"] = sum(fn(f) == lem for f, lem in distinct) / max(len(distinct), 1)
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--path", type=Path, default=DEFAULT, help="folder of *.conllu files")
    ap.add_argument("--split", default="test", help="train, test or all (default: test)")
    ap.add_argument("--errors", type=int, default=0, help="print the N most frequent errors")
    args = ap.parse_args(argv)
    files = sorted(args.path.glob("*.conllu"))
    if not files:
        print(f"no *.conllu files in {args.path}", file=sys.stderr)
        return 2
    if args.split != "all":
        files = [f for f in files if f"-{args.split}." in f.name]
        if not files:
            print(f"no '{args.split}' file in {args.path}", file=sys.stderr)
            return 2
    rows = [r for f in files for r in read_conllu(f) if r[2] not in SKIP_POS]
    print(f"files: {', '.join(f.name for f in files)}; word tokens: {len(rows)}")
    t0 = time.perf_counter()
    ours = score(rows, lemmatize_ky)
    elapsed = time.perf_counter() - t0
    base = score(rows, lambda f: f)
    print(f"{'method':<14}{'nouns':>8}{'verbs':>8}{'all':>8}{'distinct':>10}")
    for name, res in (("identity", base), ("lemmatize_ky", ours)):
        print(
            f"{name:<14}{res['nouns']:>8.3f}{res['verbs']:>8.3f}{res['all']:>8.3f}"
            f"{res['distinct']:>10.3f}"
        )
    print(f"lemmatize_ky: {len(rows) / elapsed:,.0f} tokens/s (cold cache)")
    if args.errors:
        errors = Counter(
            (f, lemmatize_ky(f), lem, p) for f, lem, p in rows if lemmatize_ky(f) != lem
        )
        for (f, got, lem, p), n in errors.most_common(args.errors):
            print(f"{n:4d}  {p:<6}{f:<24}{got:<20}{lem}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
