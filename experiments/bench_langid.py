"""Accuracy and speed of :func:`topics.langid.detect_language`.

1. SIB-200 (FLORES-200 sentences): the same 1,004 sentences in Kyrgyz (kir_Cyrl), Mongolian
   (khk_Cyrl), Tajik (tgk_Cyrl), Russian (rus_Cyrl) and English (eng_Latn); all splits are
   used, none was used to build the identifier. Prints accuracy per language, the confusion
   table and throughput.
2. The seed corpus: language counts per document and section, and the first segments of each
   document (titles, abstracts) with their label, to read by eye.

Usage::

    python experiments/bench_langid.py [--sib200 PATH] [--seeds PATH] [--show N] [--errors]
"""

from __future__ import annotations

import argparse
import csv
import time
from collections import Counter
from pathlib import Path

from topics.langid import LANGUAGES, detect_language

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_SIB = ROOT.parent / "shared" / "eval" / "sib200"
SHORT_K = (1, 2, 3, 5, 8)
PLAIN = str.maketrans("ңөүҢӨҮӣӯҳҷғқӢӮҲҶҒҚ", "ноуНОУиухчгкИУХЧГК")
SIB_LANGS = {
    "kir_Cyrl": "ky",
    "khk_Cyrl": "mn",
    "tgk_Cyrl": "tg",
    "rus_Cyrl": "ru",
    "eng_Latn": "en",
}


def load_sib200(root: Path) -> dict[str, list[str]]:
    """Sentences of every split per expected language code."""
    out: dict[str, list[str]] = {}
    for folder, lang in SIB_LANGS.items():
        texts: list[str] = []
        for split in ("train", "dev", "test"):
            path = root / folder / f"{split}.tsv"
            if not path.exists():
                raise SystemExit(f"missing {path}: is --sib200 the sib200 folder?")
            with path.open(encoding="utf-8", newline="") as fh:
                texts += [row["text"] for row in csv.DictReader(fh, delimiter="\t")]
        out[lang] = texts
    return out


def bench_sib200(root: Path, show_errors: bool) -> None:
    data = load_sib200(root)
    n_total = sum(len(v) for v in data.values())
    t0 = time.perf_counter()
    preds = {lang: [detect_language(t) for t in texts] for lang, texts in data.items()}
    seconds = time.perf_counter() - t0

    print(f"SIB-200 ({root})")
    print(f"{'lang':<6}{'n':>6}{'accuracy':>10}")
    for lang, p in preds.items():
        acc = sum(x == lang for x in p) / len(p)
        print(f"{lang:<6}{len(p):>6}{acc:>10.4f}")
    print("\nconfusion (rows: true, columns: predicted)")
    print(f"{'':<6}" + "".join(f"{c:>7}" for c in LANGUAGES))
    for lang, p in preds.items():
        counts = Counter(p)
        print(f"{lang:<6}" + "".join(f"{counts.get(c, 0):>7}" for c in LANGUAGES))
    print(f"\nthroughput: {n_total / seconds:,.0f} sentences/s ({n_total} in {seconds:.2f} s)")
    print("\nshort segments: accuracy on the first k words of each sentence (titles, headings)")
    print(f"{'lang':<6}" + "".join(f"{f'k={k}':>8}" for k in SHORT_K))
    for lang, texts in data.items():
        accs = []
        for k in SHORT_K:
            short = [" ".join(t.split()[:k]) for t in texts]
            accs.append(sum(detect_language(t) == lang for t in short) / len(short))
        print(f"{lang:<6}" + "".join(f"{a:>8.3f}" for a in accs))
    print("\nwithout special letters (typed with Russian letters only: ң->н, ө->о, ү->у, ...)")
    for lang, texts in data.items():
        if lang == "en":
            continue
        plain = [t.translate(PLAIN) for t in texts]
        acc = sum(detect_language(t) == lang for t in plain) / len(plain)
        print(f"{lang:<6}{acc:>8.3f}")
    if show_errors:
        for lang, p in preds.items():
            for text, x in zip(data[lang], p, strict=True):
                if x != lang:
                    print(f"  {lang}->{x}: {text[:140]}")


def seed_segments(seeds: Path) -> tuple[list[dict], str]:
    """Segments of the seed corpus, through the ingest stage when it is importable."""
    from topics.corpus import load_corpus

    corpus = load_corpus(seeds)
    try:
        from topics.ingest import segments_from_corpus

        res = segments_from_corpus(corpus)
        return res.segments[["doc_id", "section", "language", "text"]].to_dict("records"), (
            "topics.ingest.segments_from_corpus"
        )
    except Exception as exc:  # noqa: BLE001  a stage still being written: use raw paragraphs
        rows = []
        for doc in corpus.documents:
            for para in doc.text.split("\n\n"):
                para = " ".join(para.split())
                if para:
                    rows.append(
                        {
                            "doc_id": doc.doc_id,
                            "section": "?",
                            "language": detect_language(para),
                            "text": para,
                        }
                    )
        return rows, f"raw blank-line paragraphs (ingest failed: {type(exc).__name__}: {exc})"


def bench_seeds(seeds: Path, show: int) -> None:
    rows, how = seed_segments(seeds)
    print(f"\nseed corpus ({seeds}), segments from {how}")
    t0 = time.perf_counter()
    for r in rows:
        detect_language(r["text"])
    seconds = time.perf_counter() - t0
    n_chars = sum(len(r["text"]) for r in rows)
    print(
        f"throughput: {len(rows) / seconds:,.0f} segments/s, "
        f"{n_chars / seconds / 1e6:.2f} M chars/s ({len(rows)} segments)"
    )
    print(f"\n{'doc_id':<28}{'section':<12}" + "".join(f"{c:>7}" for c in LANGUAGES))
    groups: dict[tuple[str, str], Counter] = {}
    for r in rows:
        groups.setdefault((str(r["doc_id"]), str(r["section"])), Counter())[r["language"]] += 1
    for (doc, sec), counts in sorted(groups.items()):
        print(f"{doc:<28}{sec:<12}" + "".join(f"{counts.get(c, 0):>7}" for c in LANGUAGES))
    if show:
        print(f"\nfirst {show} non-body segments of each document (to check by eye)")
        seen: Counter = Counter()
        for r in rows:
            if r["section"] == "body" or seen[r["doc_id"]] >= show:
                continue
            seen[r["doc_id"]] += 1
            text = " ".join(str(r["text"]).split())
            print(f"  {r['doc_id']} {r['section']:<10} {r['language']:<6} {text[:90]}")


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--sib200", type=Path, default=DEFAULT_SIB, help="the sib200 folder")
    ap.add_argument("--seeds", type=Path, default=ROOT / "seeds", help="the seed corpus")
    ap.add_argument("--show", type=int, default=12, help="segments per seed document to print")
    ap.add_argument("--errors", action="store_true", help="print misclassified sentences")
    args = ap.parse_args(argv)
    if args.sib200.exists():
        bench_sib200(args.sib200, args.errors)
    else:
        print(f"SIB-200 folder {args.sib200} not found: skipped")
    if args.seeds.exists():
        bench_seeds(args.seeds, args.show)


if __name__ == "__main__":
    main()
