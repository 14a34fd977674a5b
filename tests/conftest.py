from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SEEDS = ROOT / "seeds"
EVAL = Path(os.environ.get("TOPICS_EVAL_DIR", ROOT.parent / "shared" / "eval"))


def make_pdf(text_lines: list[str]) -> bytes:
    """A minimal valid one-page PDF with a text layer (ASCII, Helvetica)."""
    content = (
        "BT /F1 12 Tf 72 720 Td 14 TL "
        + " ".join(f"({line.replace('(', '[').replace(')', ']')}) '" for line in text_lines)
        + " ET"
    )
    objs = [
        "<< /Type /Catalog /Pages 2 0 R >>",
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        "/Resources << /Font << /F1 5 0 R >> >> >>",
        f"<< /Length {len(content)} >>\nstream\n{content}\nendstream",
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = b"%PDF-1.4\n"
    offsets = []
    for i, body in enumerate(objs, 1):
        offsets.append(len(out))
        out += f"{i} 0 obj\n{body}\nendobj\n".encode("latin-1")
    xref = len(out)
    out += f"xref\n0 {len(objs) + 1}\n0000000000 65535 f \n".encode()
    for off in offsets:
        out += f"{off:010d} 00000 n \n".encode()
    out += f"trailer\n<< /Size {len(objs) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return out


def make_docx(path: Path, paragraphs: list[str]) -> None:
    import docx

    d = docx.Document()
    for p in paragraphs:
        d.add_paragraph(p)
    d.save(str(path))


@pytest.fixture(scope="session")
def seeds_dir() -> Path:
    return SEEDS


@pytest.fixture(scope="session")
def seeds_ingest():
    """The seed corpus ingested once per session (read only: copy before mutating)."""
    from topics.ingest import ingest

    return ingest(SEEDS)


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path_factory, monkeypatch):
    # Never write into the user's real cache from tests.
    cache = tmp_path_factory.getbasetemp() / "embed-cache"
    monkeypatch.setenv("TOPICS_CACHE_DIR", str(cache))


# Three planted topics: each paragraph draws its words from one vocabulary, and its
# embedding lies near that topic's centre. No embedding model is needed.
SMALL_VOCABULARIES = (
    "мугалим сабак мектеп окуучу класс китеп билим окутуу".split(),
    "интернет компьютер санариптик онлайн платформа технология тармак видео".split(),
    "университет студент изилдөө диплом кызматташтык эл аралык программа грант".split(),
)


def small_corpus(n_per_topic: int = 20, seed: int = 0):
    """A DataFrame corpus (text, doc_id, focus, year) and one embedding row per row."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(len(SMALL_VOCABULARIES), 32))
    rows, vectors = [], []
    for k, vocab in enumerate(SMALL_VOCABULARIES):
        for i in range(n_per_topic):
            words = rng.choice(vocab, size=12)
            rows.append(
                {
                    "text": " ".join(words).capitalize() + ".",
                    "doc_id": f"d{k}_{i:02d}",
                    "focus": ("school", "university")[i % 2],
                    "year": 2018 + i % 4,
                    "planted": k,
                }
            )
            vectors.append(centres[k] + 0.3 * rng.normal(size=32))
    return pd.DataFrame(rows), np.array(vectors)


SMALL_SETTINGS = {"consensus_runs": 3, "n_boot": 100, "n_perm": 100}


@pytest.fixture(scope="session")
def small_run():
    """A real run (topics.run) of :func:`small_corpus` with its embeddings; read only."""
    import topics

    frame, vectors = small_corpus()
    return topics.run(frame, embeddings=vectors, by="focus", **SMALL_SETTINGS)


@pytest.fixture(scope="session")
def small_run_dir(small_run, tmp_path_factory):
    """:func:`small_run` saved (with report and BERTopic model); read only."""
    return small_run.save(tmp_path_factory.mktemp("small") / "run", bertopic=True)
