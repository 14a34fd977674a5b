"""The notebook entry point: topics.run on a DataFrame or folder, save/load round trip."""

from __future__ import annotations

import importlib
import json
import pkgutil
import sys

import numpy as np
import pandas as pd
import pytest
from conftest import SEEDS, SMALL_SETTINGS, small_corpus

import topics
from topics.config import RunConfig
from topics.errors import TopicsError
from topics.pipeline import make_config


def test_no_public_name_is_both_a_function_and_a_module():
    submodules = {m.name for m in pkgutil.iter_modules(topics.__path__)}
    for name in submodules:
        importlib.import_module(f"topics.{name}")  # binds topics.<name> to the module
    clashes = sorted(set(topics.__all__) & submodules)
    assert not clashes, clashes
    for name in topics.__all__:
        assert not isinstance(getattr(topics, name), type(sys)), name
    assert callable(topics.run) and callable(topics.load)


def test_settings_map_onto_the_config_and_unknown_ones_are_named():
    base = RunConfig(corpus="seeds")
    cfg = make_config(base, themes="book.toml", by="focus", seed=3, min_cluster_size=7, n_boot=9)
    assert (cfg.topics.min_cluster_size, cfg.compare.n_boot, cfg.seed) == (7, 9, 3)
    assert cfg.themes.codebook == "book.toml" and cfg.compare.by == ["focus"]
    assert base.topics.min_cluster_size == 0 and base.seed == 0  # the caller's is unchanged
    with pytest.raises(TopicsError, match=r"'min_clustr_size'.*did you mean min_cluster_size"):
        topics.run(SEEDS, min_clustr_size=4)
    with pytest.raises(TopicsError, match="expected a number"):
        topics.run(SEEDS, n_boot="many")


def test_embeddings_of_the_wrong_shape_are_refused_clearly():
    frame, vectors = small_corpus(n_per_topic=4)
    with pytest.raises(TopicsError, match="11 rows but the DataFrame has 12 rows"):
        topics.run(frame, embeddings=vectors[:11])
    with pytest.raises(TopicsError, match="2-D array"):
        topics.run(frame, embeddings=vectors[:, 0])
    with pytest.raises(TopicsError, match="no `text` column"):
        topics.run(frame.rename(columns={"text": "body"}), embeddings=vectors)


def test_run_on_a_dataframe_with_precomputed_embeddings(small_run):
    frame, _ = small_corpus()
    seg = small_run.segments
    # one modelled paragraph per DataFrame row, in order, text as given
    assert seg["doc_id"].tolist() == frame["doc_id"].tolist()
    assert seg["text"].tolist() == frame["text"].tolist()
    from sklearn.metrics import adjusted_rand_score

    assert adjusted_rand_score(frame["planted"], seg["topic"].astype(int)) > 0.9
    assert small_run.manifest["embeddings"]["source"].startswith("precomputed")
    assert set(small_run.prevalence["by"]) == {"focus"}
    assert small_run.config["corpus"] == ""  # a DataFrame has no path until saved
    assert small_run.config["ingest"]["split"] is False  # one paragraph per row, recorded


def _files(folder):
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())


def test_save_load_save_round_trip(small_run, small_run_dir, tmp_path):
    before = json.dumps(small_run.config, sort_keys=True)
    back = topics.load(small_run_dir)
    again = back.save(tmp_path / "again", bertopic=False)
    assert json.dumps(small_run.config, sort_keys=True) == before  # save never mutates
    files = [f for f in _files(small_run_dir) if not f.startswith("bertopic/")]
    assert files == _files(again)
    for name in files:
        if name == "embeddings.safetensors":  # its header order is not fixed: compare content
            a, b = back.embeddings, topics.load(again).embeddings
            assert a.segment_ids == b.segment_ids and np.array_equal(a.vectors, b.vectors)
            continue
        assert (small_run_dir / name).read_bytes() == (again / name).read_bytes(), name
    # everything save wrote is read back, with its types
    for name in ("topics", "topic_words", "prevalence", "differences", "prevalence_by_year"):
        pd.testing.assert_frame_equal(
            getattr(small_run, name).reset_index(drop=True),
            getattr(back, name).reset_index(drop=True),
            check_dtype=False,
            check_exact=False,
            obj=name,
        )
    assert np.array_equal(back.model.topics, small_run.model.topics)
    assert np.allclose(back.similarity, small_run.similarity, atol=1e-6)
    assert back.model.ctfidf_words == small_run.model.ctfidf_words
    assert (small_run_dir / "report.html").exists() and (small_run_dir / "model").is_dir()


def test_a_dataframe_run_is_redone_from_its_folder(small_run, small_run_dir, tmp_path):
    """The DataFrame is saved as corpus.parquet, which the saved config names: `topics
    verify` and `topics run --config RUN/config.toml` redo the run from the folder alone.
    """
    import tomllib

    from topics.cli import main as cli_main
    from topics.verify import verify

    cfg = tomllib.loads((small_run_dir / "config.toml").read_text("utf-8"))
    assert cfg["corpus"] == "corpus.parquet" and cfg["ingest"]["split"] is False
    saved = pd.read_parquet(small_run_dir / "corpus.parquet")
    frame, _ = small_corpus()
    assert saved["doc_id"].tolist() == frame["doc_id"].tolist()
    assert saved["text"].tolist() == frame["text"].tolist()
    assert saved["year"].tolist() == frame["year"].astype(str).tolist()  # as in a corpus.csv
    pd.testing.assert_frame_equal(topics.load(small_run_dir).corpus, small_run.corpus)
    report = verify(small_run_dir)
    assert set(report.table()["status"]) == {"identical"}, report.table()
    assert report.embeddings.startswith("saved embeddings")
    rerun = tmp_path / "rerun"
    config = str(small_run_dir / "config.toml")
    assert cli_main(["run", "--config", config, "--out", str(rerun), "--no-report", "--quiet"]) == 0
    for name in ("segments.csv", "topics.csv", "prevalence.csv", "corpus.parquet"):
        assert (rerun / name).read_bytes() == (small_run_dir / name).read_bytes(), name


def test_a_saved_corpus_table_is_checked(tmp_path):
    frame, _ = small_corpus(n_per_topic=3)
    with pytest.raises(TopicsError, match="corpus table not found"):
        topics.run(RunConfig(corpus=str(tmp_path / "corpus.parquet")))
    with pytest.raises(TopicsError, match="split = false applies to a DataFrame corpus only"):
        topics.run(SEEDS, split=False)


def test_save_refuses_an_existing_folder_and_is_atomic(small_run, small_run_dir):
    before = _files(small_run_dir)
    with pytest.raises(TopicsError, match="--overwrite"):
        small_run.save(small_run_dir)
    assert _files(small_run_dir) == before


def test_topic_words_are_a_long_table_with_weights(small_run):
    from topics.schema import TOPIC_WORD_COLUMNS

    words = small_run.topic_words
    assert list(words.columns) == TOPIC_WORD_COLUMNS
    overall = words[words["language"] == "all"]
    for k, grp in overall.groupby("topic"):
        listed = small_run.topics.set_index("topic").loc[k, "words"].split(", ")
        assert grp.sort_values("rank")["word"].tolist() == listed
        # the first word weighs most; the others are also ranked for coherence
        weights = grp.sort_values("rank")["weight"]
        assert weights.iloc[0] == weights.max()
    assert (overall["weight"] > 0).all()


def test_prevalence_level_is_a_column(small_run):
    prev = small_run.prevalence
    assert set(prev["level"]) <= {"document", "paragraph", "none"}
    # 10 documents per group: beta-binomial (document level), never guessed from wording
    assert (prev["level"] == "document").all()


def test_a_broken_install_fails_loudly(monkeypatch):
    from topics import cli

    # as if the module failed to import
    monkeypatch.setitem(sys.modules, "topics._cli_run", None)
    monkeypatch.delattr(topics, "_cli_run", raising=False)
    with pytest.raises(ImportError):
        cli.main(["run", str(SEEDS), "--out", "never"])
    monkeypatch.undo()
    frame, vectors = small_corpus(n_per_topic=6)
    # delattr first: looking the lazy attribute up imports the module, which must still work
    monkeypatch.delattr(topics, "compare", raising=False)
    monkeypatch.setitem(sys.modules, "topics.compare", None)
    with pytest.raises(ImportError):  # never a "successful" run without comparisons
        topics.run(frame, embeddings=vectors, **SMALL_SETTINGS)


def test_figures_fail_loudly_and_skips_are_stated(small_run, small_run_dir, monkeypatch):
    from topics import figures
    from topics.errors import FigureSkippedWarning, NoDataError

    def buggy(result):
        raise ValueError("a bug")

    def one_group(result):
        raise NoDataError("only one group")

    monkeypatch.setitem(figures.FIGURES, "topic_map", buggy)
    with pytest.raises(ValueError, match="a bug"):
        figures.all_figures(small_run)
    monkeypatch.setitem(figures.FIGURES, "topic_map", one_group)
    skipped: dict[str, str] = {}
    with pytest.warns(FigureSkippedWarning, match="figure topic_map skipped: only one group"):
        figs = figures.all_figures(small_run, skipped=skipped)
    assert "topic_map" not in figs and skipped["topic_map"] == "only one group"
    # a run without a codebook: the theme figures are skipped, and the manifest says why
    manifest = json.loads((small_run_dir / "manifest.json").read_text("utf-8"))
    recorded = {r["figure"]: r["reason"] for r in manifest["figures_skipped"]}
    assert "theme assignments" in recorded["theme_by_document"]
    assert "topic_map" not in recorded and "topic_words" not in recorded


def test_topic_words_figure_plots_the_saved_weights(small_run_dir):
    from topics import figures

    back = topics.load(small_run_dir)
    fig = figures.topic_words(back, n_words=4).to_dict()
    top = back.topic_words[
        (back.topic_words["topic"] == 0) & (back.topic_words["language"] == "all")
    ]
    assert list(fig["data"][0]["x"]) == pytest.approx(top["weight"].head(4).tolist())
    assert list(fig["data"][0]["y"]) == top["word"].head(4).tolist()


def test_bertopic_on_a_saved_and_reloaded_run(small_run_dir):
    from bertopic import BERTopic

    back = topics.load(small_run_dir)
    model = back.bertopic()
    seg, _ = back.modelled_segments()
    docs = seg["text"].tolist()
    assert list(model.topics_) == seg["topic"].astype(int).tolist()
    info = model.get_topic_info()
    labels = back.topics.set_index("topic")["label"]
    assert dict(zip(info["Topic"], info["CustomName"], strict=True)) == labels.to_dict()
    first = back.topic_words.query("topic == 0 and language == 'all'")
    assert [w for w, _ in model.get_topic(0)] == first["word"].tolist()
    doc_info = model.get_document_info(docs)
    assert doc_info["Topic"].tolist() == seg["topic"].astype(int).tolist()
    assert model.visualize_barchart().data
    assert model.visualize_hierarchy().data
    per_class = model.topics_per_class(docs, classes=seg["focus"].tolist())
    assert set(per_class["Class"]) == {"school", "university"}
    over_time = model.topics_over_time(docs, seg["year"].astype(int).tolist())
    assert over_time["Frequency"].sum() == len(docs)
    # save(..., bertopic=True) wrote BERTopic's safetensors format, which BERTopic reads
    loaded = BERTopic.load(str(small_run_dir / "bertopic"))
    assert loaded.get_topic_info()["Count"].tolist() == info["Count"].tolist()
    assert loaded.topic_embeddings_.shape == model.topic_embeddings_.shape
    assert [w for w, _ in loaded.get_topic(0)] == first["word"].tolist()


def test_every_saved_table_has_the_columns_of_the_schema(small_run_dir):
    """One schema names the columns of every table a run saves (metadata and per-language
    word columns follow the named ones).
    """
    from topics import schema

    frame, _ = small_corpus()
    metadata = [c for c in frame.columns if c not in ("text", "doc_id")]
    expected = {
        "segments.csv": schema.SEGMENT_COLUMNS + metadata + schema.MODEL_COLUMNS,
        "topics.csv": schema.TOPIC_COLUMNS,
        "topic_words.csv": schema.TOPIC_WORD_COLUMNS,
        "prevalence.csv": schema.PREVALENCE_COLUMNS,
        "differences.csv": schema.DIFFERENCE_COLUMNS,
    }
    for name, columns in expected.items():
        head = pd.read_csv(small_run_dir / name, nrows=0).columns.tolist()
        extra = head[len(columns) :]
        assert head[: len(columns)] == list(columns), name
        assert name == "topics.csv" or not extra, (name, extra)
        assert all(c.startswith("words_") for c in extra), (name, extra)


def test_a_broken_codebook_sheet_or_column_is_reported_before_the_corpus_is_embedded(
    tmp_path, monkeypatch, seeds_ingest
):
    # Embedding a national corpus takes hours: a typo in the codebook, the sheet or the
    # comparison's columns must not wait for it.
    from conftest import ROOT

    from topics import pipeline

    def reached(*args, **kwargs):
        raise AssertionError("the run went on to a long stage")

    monkeypatch.setattr(pipeline, "_model", reached)
    book = tmp_path / "book.toml"
    book.write_text('[[theme]\nname = "x"\n', "utf-8")
    with monkeypatch.context() as m:
        m.setattr(pipeline, "_ingest", reached)
        with pytest.raises(TopicsError, match="book.toml"):
            topics.run(SEEDS, themes=book)
    body = seeds_ingest.segments
    body = body[body["section"] == "body"]
    sheet = tmp_path / "sheet.csv"
    pd.DataFrame({"segment_id": body["segment_id"].iloc[:2], "code": ["gender", "sport"]}).to_csv(
        sheet, index=False
    )
    with pytest.raises(TopicsError, match=r"sheet.csv, row 3 .*unknown theme 'sport'"):
        topics.run(SEEDS, themes=ROOT / "experiments" / "codebook.toml", coded=sheet)
    with pytest.raises(TopicsError, match=r"no column\(s\) \['fokus'\] .*'focus'"):
        topics.run(SEEDS, by="fokus")
    with pytest.raises(TopicsError, match=r"unknown column 'fokus'; available .*focus"):
        topics.run(SEEDS, formulas=["focus + year", "~ fokus + year"])


def test_progress_is_shown_by_default_where_someone_watches(monkeypatch):
    import importlib.util
    import io

    from topics.pipeline import shown_progress

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    monkeypatch.delitem(sys.modules, "ipykernel", raising=False)
    monkeypatch.setattr(sys, "stderr", io.StringIO())
    assert shown_progress(None) is False  # a script's captured or redirected output
    monkeypatch.setattr(sys, "stderr", Terminal())
    assert shown_progress(None) is True
    assert shown_progress(False) is False  # an explicit choice wins
    monkeypatch.setattr(sys, "stderr", io.StringIO())
    monkeypatch.setitem(sys.modules, "ipykernel", object())  # a notebook's kernel
    widgets = {"ipywidgets": True}
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: widgets.get(name))
    assert shown_progress(None) is True
    widgets.clear()  # tqdm's text bars print a line per update in a notebook
    assert shown_progress(None) is False
    monkeypatch.setattr(sys, "stderr", None)
    monkeypatch.delitem(sys.modules, "ipykernel")
    assert shown_progress(None) is False


def test_runs_record_the_machine_and_blas_without_paths():
    from topics._io import package_versions

    versions = package_versions()
    assert versions["numba"] and versions["llvmlite"]  # they compile the layout descent
    assert versions["machine"]
    blas = versions["blas"]
    assert blas is None or ("/" not in blas and "\\" not in blas)
    import threadpoolctl

    if any(i.get("user_api") == "blas" for i in threadpoolctl.threadpool_info()):
        assert blas and blas.split()[0] in ("openblas", "mkl", "blis", "accelerate", "flexiblas")


def test_ctrl_c_inside_compiled_code_is_an_interruption(monkeypatch, capsys):
    # A Ctrl-C landing in a numba kernel surfaces as a SystemError chained to the
    # KeyboardInterrupt; the command line must still report an interruption (exit 130).
    from topics import _cli_run, cli

    def interrupted(args):
        try:
            raise KeyboardInterrupt
        except KeyboardInterrupt as exc:
            raise SystemError("CPUDispatcher(<function quantise>) returned a result with an "
                              "exception set") from exc  # fmt: skip

    monkeypatch.setattr(_cli_run, "_cmd_verify", interrupted)
    assert cli.main(["verify", "somewhere"]) == 130
    assert "interrupted: nothing was written" in capsys.readouterr().err

    def broken(args):
        raise SystemError("a real bug")

    monkeypatch.setattr(_cli_run, "_cmd_verify", broken)
    with pytest.raises(SystemError, match="a real bug"):
        cli.main(["verify", "somewhere"])
