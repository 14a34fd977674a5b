from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from topics import coding
from topics import themes as th
from topics.errors import TopicsError, TopicsWarning
from topics.result import Result

THEMES = ["distance learning", "gender", "school safety", "infrastructure"]


def _result(n_docs: int = 6, per_doc: int = 20, seed: int = 0) -> Result:
    rng = np.random.default_rng(seed)
    rows = []
    # "gender" is rare: 3 paragraphs in the whole corpus
    for d in range(n_docs):
        for p in range(per_doc):
            theme = str(rng.choice(["distance learning", "school safety", "infrastructure", ""]))
            rows.append(
                {
                    "doc_id": f"d{d}",
                    "segment_id": f"d{d}:{p:03d}",
                    "text": f"Paragraph {p} of document {d}: «текст» with, commas\nand a newline",
                    "topic": int(rng.integers(0, 3)),
                    "theme": theme,
                }
            )
    for i in range(3):
        rows[7 * i + 1]["theme"] = "gender"
    seg = pd.DataFrame(rows)
    seg.loc[0, "topic"] = pd.NA  # a title: not modelled
    seg["topic"] = seg["topic"].astype("Int64")
    themes = pd.DataFrame(
        {"theme": THEMES, "description": [f"about {t}" for t in THEMES], "keywords": "a; b"}
    )
    return Result(segments=seg, documents=pd.DataFrame({"doc_id": []}), themes=themes)


@pytest.mark.parametrize("suffix", [".xlsx", ".csv"])
def test_sheet_round_trip(tmp_path, suffix):
    res = _result()
    sheet = coding.sample_sheet(res, n=30, coders=2, random_state=1)
    path = coding.write_sheet(sheet, tmp_path / f"sheet{suffix}")
    back = coding.read_sheet(path)
    cols = ["segment_id", "doc_id", "text", "code", "code_2", "stratum"]
    pd.testing.assert_frame_equal(back[cols], sheet.rows[cols].astype(str))
    assert np.allclose(back["weight"].astype(float), sheet.rows["weight"])
    assert (back["row"] == np.arange(len(back)) + 2).all()
    # the machine's theme is not in the sheet
    assert "theme" not in back.columns and "topic" not in back.columns
    if suffix == ".xlsx":
        book = pd.read_excel(path, sheet_name=None)
        assert set(book) == {"coding", "codebook", "design"}
        assert list(book["codebook"]["theme"]) == [*THEMES, "none"]
    else:
        assert (tmp_path / "sheet.codebook.csv").exists()
        assert (tmp_path / "sheet.design.csv").exists()
    with pytest.raises(TopicsError, match="exists"):
        coding.write_sheet(sheet, path)


def test_sheet_saved_by_excel_in_russian_settings_is_read(tmp_path):
    # Excel with a comma as decimal mark saves "CSV" with ";" and cp1251.
    res = _result()
    sheet = coding.sample_sheet(res, n=12, random_state=1)
    path = coding.write_sheet(sheet, tmp_path / "sheet.csv")
    rows = pd.read_csv(path, dtype=str, keep_default_na=False)
    rows["text"] = [
        f"Мектептердеги санариптик билим, {i}-абзац;\nэкинчи сап" for i in range(len(rows))
    ]
    rows["code"] = ["гендер / gender"] + [""] * (len(rows) - 1)  # a coder's note, Cyrillic
    excel = tmp_path / "excel.csv"
    excel.write_bytes(rows.to_csv(sep=";", index=False).encode("cp1251"))
    back = coding.read_sheet(excel)
    assert list(back["segment_id"]) == list(rows["segment_id"])
    assert back["text"].tolist() == rows["text"].tolist()  # commas, semicolons, newlines
    assert back.loc[0, "code"] == "гендер / gender"


def test_sample_is_stratified_and_weighted():
    res = _result()
    sheet = coding.sample_sheet(res, n=24, random_state=0)
    seg = res.segments.set_index("segment_id")
    rows = sheet.rows
    assert len(rows) == 24 and rows["segment_id"].is_unique
    assert seg.loc[rows["segment_id"], "topic"].notna().all()  # only modelled paragraphs
    themes = seg.loc[rows["segment_id"], "theme"].fillna("")
    # the rare theme is represented: 2 of its 3 paragraphs, though it is 2.5% of the corpus
    assert (themes == "gender").sum() == 2
    d = sheet.design
    assert d["sampled"].sum() == 24
    assert d["population"].sum() == seg["topic"].notna().sum()
    # weights add up to the population (Horvitz-Thompson) and match the design
    assert rows["weight"].sum() == pytest.approx(d["population"].sum())
    assert np.allclose(rows["weight"] * rows["inclusion_prob"], 1)
    # same seed, same sheet; another seed, another sample
    again = coding.sample_sheet(res, n=24, random_state=0)
    pd.testing.assert_frame_equal(again.rows, rows)
    other = coding.sample_sheet(res, n=24, random_state=5)
    assert set(other.rows["segment_id"]) != set(rows["segment_id"])


def _write_codes(tmp_path, suffix, rows):
    df = pd.DataFrame(rows, columns=["segment_id", "doc_id", "text", "code"])
    path = tmp_path / f"coded{suffix}"
    if suffix == ".csv":
        df.to_csv(path, index=False)
    else:
        df.to_excel(path, sheet_name="coding", index=False)
    return path


@pytest.mark.parametrize("suffix", [".xlsx", ".csv"])
def test_read_codes_errors_name_the_row(tmp_path, suffix):
    ids = [f"d0:{i:03d}" for i in range(20)]
    good = [[ids[1], "d0", "t", "Gender "], [ids[2], "d0", "t", "none"]]
    codes = coding.read_codes(_write_codes(tmp_path, suffix, good), THEMES, segment_ids=ids)
    assert list(codes["code"]) == ["gender", "none"]  # case and spaces do not matter

    bad = [*good, [ids[3], "d0", "t", "digital literacy"]]
    with pytest.raises(TopicsError, match=r"row 4 .*unknown theme 'digital literacy'"):
        coding.read_codes(_write_codes(tmp_path, suffix, bad), THEMES, segment_ids=ids)

    dup = [*good, [ids[1], "d0", "t", "gender"]]
    with pytest.raises(TopicsError, match=r"2, 4: segment d0:001 appears more than once"):
        coding.read_codes(_write_codes(tmp_path, suffix, dup), THEMES, segment_ids=ids)

    unknown = [*good, ["x9:001", "x9", "t", "gender"]]
    with pytest.raises(TopicsError, match=r"row 4: segment x9:001 is not in this corpus"):
        coding.read_codes(_write_codes(tmp_path, suffix, unknown), THEMES, segment_ids=ids)


def test_empty_code_skipped_with_warning(tmp_path):
    ids = [f"d0:{i:03d}" for i in range(5)]
    rows = [[ids[0], "d0", "t", "gender"], [ids[1], "d0", "t", ""], [ids[2], "d0", "t", "none"]]
    path = _write_codes(tmp_path, ".xlsx", rows)
    with pytest.warns(TopicsWarning, match=r"1 row\(s\) without a code skipped \(rows 3\)"):
        codes = coding.read_codes(path, THEMES, segment_ids=ids)
    assert list(codes["segment_id"]) == [ids[0], ids[2]]


def test_kappa_and_alpha_reference_values():
    # Krippendorff (2011), "Computing Krippendorff's alpha-reliability", binary example of
    # two coders over ten units: alpha = 0.095. Cohen's kappa of the same data by hand:
    # p_o = 0.6, p_e = 0.2*0.4 + 0.8*0.6 = 0.56, kappa = 0.04 / 0.44 = 0.0909.
    a = list("0100000010")
    b = list("1110010000")
    assert coding.krippendorff_alpha(a, b) == pytest.approx(0.0952, abs=5e-4)
    assert coding.cohen_kappa(a, b) == pytest.approx(0.04 / 0.44)
    # Cohen's 2x2 textbook case: 20 yes/yes, 5 yes/no, 10 no/yes, 15 no/no -> kappa = 0.4
    a = ["y"] * 25 + ["n"] * 25
    b = ["y"] * 20 + ["n"] * 5 + ["y"] * 10 + ["n"] * 15
    assert coding.cohen_kappa(a, b) == pytest.approx(0.4)
    # Krippendorff's nominal example with four coders and missing values: alpha = 0.743
    rows = [
        "1 2 3 3 2 1 4 1 2 . . .",
        "1 2 3 3 2 2 4 1 2 5 . 3",
        ". 3 3 3 2 3 4 2 2 5 1 .",
        "1 2 3 3 2 4 4 1 2 5 1 .",
    ]
    codings = [["" if v == "." else v for v in r.split()] for r in rows]
    assert coding.krippendorff_alpha(*codings) == pytest.approx(0.743, abs=5e-4)


def test_pair_statistics_known_case_and_bootstrap_alpha():
    a = ["y"] * 25 + ["n"] * 25
    b = ["y"] * 20 + ["n"] * 5 + ["y"] * 10 + ["n"] * 15
    docs = np.repeat(np.arange(10), 5)
    table, m = coding.pair_statistics(a, b, docs, n_boot=500, random_state=0)
    val = table.set_index(["measure", "theme"])["value"]
    assert val["accuracy", ""] == pytest.approx(0.7)
    assert val["kappa", ""] == pytest.approx(0.4)
    assert val["precision", "y"] == pytest.approx(20 / 25)
    assert val["recall", "y"] == pytest.approx(20 / 30)
    assert val["f1", "y"] == pytest.approx(2 * 20 / (25 + 30))
    assert m.tolist() == [[15, 10], [5, 20]]  # labels sorted: n, y; rows pred, cols ref
    lo = table.set_index(["measure", "theme"])["ci_low"]
    hi = table.set_index(["measure", "theme"])["ci_high"]
    assert (lo <= val + 1e-12).all() and (val <= hi + 1e-12).all()
    # the closed form used in the bootstrap equals the package on random data
    rng = np.random.default_rng(3)
    for _ in range(5):
        p = rng.choice(list("abcd"), 40)
        r = np.where(rng.random(40) < 0.6, p, rng.choice(list("abcd"), 40))
        ix = {v: i for i, v in enumerate("abcd")}
        mm = coding._confusion(np.array([ix[v] for v in p]), np.array([ix[v] for v in r]), 4)
        assert coding._alpha_from(mm) == pytest.approx(coding.krippendorff_alpha(p, r))


def test_agreement_on_result(tmp_path):
    res = _result()
    sheet = coding.sample_sheet(res, n=40, coders=2, random_state=0)
    seg = res.segments.set_index("segment_id")
    machine = seg.loc[sheet.rows["segment_id"], "theme"].replace("", "none").to_numpy()
    sheet.rows["code"] = machine  # coder 1 agrees with the machine everywhere
    code2 = machine.copy()
    code2[:10] = "none"
    sheet.rows["code_2"] = code2
    sheet.rows.loc[3, "code_2"] = ""  # one row not coded by coder 2
    path = coding.write_sheet(sheet, tmp_path / "s.xlsx")
    with pytest.warns(TopicsWarning, match="from 6 documents; intervals"):
        agr = res.agreement(path, n_boot=200)
    t = agr.table.set_index(["rater_a", "rater_b", "measure", "theme"])
    assert t.loc[("machine", "code", "accuracy", ""), "value"] == 1.0
    assert t.loc[("machine", "code", "kappa", ""), "value"] == 1.0
    assert t.loc[("code", "code_2", "accuracy", ""), "n"] == 39
    assert agr.info["evaluation"].startswith("held out")
    assert t.loc[("machine", "code", "accuracy_weighted", ""), "value"] == 1.0
    conf = agr.confusion
    mc = conf[(conf["rater_a"] == "machine") & (conf["rater_b"] == "code")]
    assert mc["count"].sum() == 40
    assert (mc.loc[mc["label_a"] != mc["label_b"], "count"] == 0).all()


def test_confusion_figure_reads_the_saved_matrix():
    from test_figures import make_result

    from topics import figures

    res = make_result()[0]
    fig = figures.confusion_matrix(res)
    heat = fig.data[0]
    conf = res.confusion[(res.confusion["rater_a"] == "machine")]
    counts = np.asarray(heat.customdata, dtype=int)
    total = int(counts.sum())
    assert total == conf["count"].sum() == res.validation["n"].iloc[0]
    # the diagonal holds the agreements
    acc = res.validation.query("measure == 'accuracy' and rater_a == 'machine'")["value"].iloc[0]
    assert list(heat.x) == list(heat.y)
    diag = int(np.trace(counts))
    assert diag == pytest.approx(acc * total)


def test_cross_validation_never_scores_an_example_on_itself(monkeypatch):
    from topics import _fewshot

    rng = np.random.default_rng(0)
    n = 60
    scores = np.c_[rng.uniform(0.45, 0.55, n), rng.uniform(0.45, 0.55, n)]
    # document d0: six paragraphs the codebook gives to "a" by a small margin, coded "b"
    scores[:6] = [[0.505, 0.50]] * 6
    scores[10:30] = np.where(np.arange(20)[:, None] % 2 == 0, [0.56, 0.44], [0.44, 0.56])
    rows = np.r_[np.arange(6), np.arange(10, 30)]
    labels = np.r_[[1] * 6, scores[10:30].argmax(axis=1)]
    docs = np.r_[["d0"] * 6, np.repeat(["d1", "d2", "d3", "d4"], 5)]
    off = th.theme_offsets(scores, rows, labels, l2=0.3)
    in_sample = th.assign_themes(scores, ["a", "b"], offsets=off).theme
    assert [in_sample[r] for r in range(6)] == ["b"] * 6  # learnt from the codes themselves
    cv = th.cross_validated_themes(scores, ["a", "b"], rows, labels, docs, l2=0.3)
    assert cv[:6] == ["a"] * 6  # without d0's codes nothing says "b"

    seen = []
    real = th.theme_offsets

    def spy(scores, rows, labels, **kw):
        seen.append(set(np.asarray(rows).tolist()))
        return real(scores, rows, labels, **kw)

    monkeypatch.setattr(_fewshot, "theme_offsets", spy)  # where cross-validation calls it
    folds = [set(rows[docs == d].tolist()) for d in np.unique(docs)]
    th.cross_validated_themes(scores, ["a", "b"], rows, labels, docs, l2=3.0)
    assert len(seen) == len(folds)
    for fit_rows, fold in zip(seen, folds, strict=True):
        assert not (fit_rows & fold)  # no paragraph of the predicted document was fitted on
        assert fit_rows | fold == set(rows.tolist())
    # with the penalty chosen from the codes (nested): every fit, the choice included, leaves
    # out the predicted document, and the final fit per document uses all the others
    seen.clear()
    th.cross_validated_themes(scores, ["a", "b"], rows, labels, docs)
    every = set(rows.tolist())
    for fold in folds:
        assert every - fold in seen
    assert all(any(not (fit & fold) for fold in folds) for fit in seen)


def _few_shot_case(tmp_path, codes: dict[str, str], docs: int = 4, per_doc: int = 12):
    """Scores where the codebook under-states theme "b": paragraphs 0-5 of each document are
    b-type (the codebook gives them to "a" by a small margin), 6-11 are clearly "a"."""
    seg = pd.DataFrame(
        {
            "segment_id": [f"d{d}:{p:02d}" for d in range(docs) for p in range(per_doc)],
            "doc_id": [f"d{d}" for d in range(docs) for _ in range(per_doc)],
        }
    )
    rng = np.random.default_rng(0)
    b_type = np.tile(np.arange(per_doc) < per_doc // 2, docs)
    scores = np.where(b_type[:, None], [0.52, 0.50], [0.60, 0.45])
    scores = scores + rng.normal(0, 0.002, scores.shape)
    path = tmp_path / "coded.csv"
    pd.DataFrame({"segment_id": list(codes), "code": list(codes.values())}).to_csv(path)
    return seg, scores, b_type, path


def test_coded_paragraphs_teach_a_theme_the_codebook_understates(tmp_path):
    # three documents code two b-type paragraphs each as "b" and one clear one as "a";
    # document d3 has no codes at all
    codes = {f"d{d}:{p:02d}": "b" for d in range(3) for p in (0, 1)}
    codes |= {f"d{d}:10": "a" for d in range(3)}
    seg, scores, b_type, path = _few_shot_case(tmp_path, codes)
    zero = th.assign_themes(scores, ["a", "b"]).theme
    assert set(zero) == {"a"}
    assigned, coded, info = coding.few_shot(scores, ["a", "b"], path, seg, np.arange(len(seg)))
    theme = np.array(assigned.theme)
    uncoded = ~seg["segment_id"].isin(codes).to_numpy()
    # similar, uncoded paragraphs follow the codes, in d3 too; the clear "a" ones do not move
    assert (theme[uncoded & b_type] == "b").all()
    assert (theme[uncoded & ~b_type] == "a").all()
    assert info["l2"] is not None and set(info["l2_cv_loglik"]) == {"inf", "10.0", "3.0", "1.0"}
    # each document's codes are predicted from the others' (they agree, so "b" carries over)
    assert (coded.loc[coded["code"] == "b", "cv_theme"] == "b").all()


def test_codes_that_do_not_carry_over_between_documents_leave_the_codebook_alone(tmp_path):
    # d0 and d1 call the b-type paragraphs "b", d2 and d3 call the same kind "a"
    codes = {f"d{d}:{p:02d}": "b" if d < 2 else "a" for d in range(4) for p in (0, 1, 2)}
    seg, scores, _, path = _few_shot_case(tmp_path, codes)
    assigned, coded, info = coding.few_shot(scores, ["a", "b"], path, seg, np.arange(len(seg)))
    # the cautious end of the grid: offsets fitted on some documents do not predict the others
    assert info["l2"] in (None, 10.0)
    assert info["l2_cv_loglik"]["1.0"] < info["l2_cv_loglik"][str(float(info["l2"] or "inf"))]
    assert assigned.theme == th.assign_themes(scores, ["a", "b"]).theme
    assert th.choose_shrinkage(scores, [0, 1], [1, 1], ["d0", "d0"]) == (th.DEFAULT_L2, {})


def test_few_shot_is_deterministic_and_ignores_sheet_row_order(tmp_path):
    codes = {f"d{d}:{p:02d}": "b" for d in range(3) for p in (0, 1)}
    codes |= {f"d{d}:{p:02d}": "a" for d in range(4) for p in (8, 10)}
    seg, scores, _, path = _few_shot_case(tmp_path, codes)
    modelled = np.arange(len(seg))
    first = coding.few_shot(scores, ["a", "b"], path, seg, modelled)
    again = coding.few_shot(scores, ["a", "b"], path, seg, modelled)
    rows = pd.read_csv(path, dtype=str).iloc[::-1]
    rows.to_csv(tmp_path / "reversed.csv", index=False)
    flipped = coding.few_shot(scores, ["a", "b"], tmp_path / "reversed.csv", seg, modelled)
    for other in (again, flipped):
        assert other[0].theme == first[0].theme
        assert np.allclose(other[0].scores, first[0].scores, atol=1e-9)
        assert other[2]["l2"] == first[2]["l2"]
        by_id = other[1].set_index("segment_id")["cv_theme"]
        assert (by_id[first[1]["segment_id"]].to_numpy() == first[1]["cv_theme"]).all()


def test_few_shot_refuses_rows_that_are_not_modelled_paragraphs(tmp_path):
    seg, scores, _, path = _few_shot_case(tmp_path, {"d0:00": "b", "d1:00": "gender"})
    with pytest.raises(TopicsError, match=r"row 3 .*unknown theme 'gender'"):
        coding.few_shot(scores, ["a", "b"], path, seg, np.arange(len(seg)))
    seg, scores, _, path = _few_shot_case(tmp_path, {"d0:00": "b", "d1:03": "a"})
    modelled = np.flatnonzero(seg["segment_id"] != "d1:03")  # d1:03 is a title, say
    with pytest.raises(TopicsError, match=r"row 3: segment d1:03 is not a modelled paragraph"):
        coding.few_shot(scores[modelled], ["a", "b"], path, seg, modelled)


@pytest.mark.slow
def test_run_with_a_coded_sheet_by_api_config_and_cli(tmp_path):
    from conftest import ROOT

    import topics
    from topics.cli import main as cli_main
    from topics.config import load_config
    from topics.corpus import load_corpus
    from topics.ingest import segments_from_corpus

    about = {
        "distance learning": "Lessons moved online during the pandemic; students studied at "
        "home through video platforms and e-learning courses.",
        "infrastructure": "Rural schools lack computers and a stable internet connection; "
        "several buildings have no electricity.",
        "gender": "Girls in rural areas leave school early, and women are rare among "
        "university rectors.",
    }
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for d in range(4):
        paras = [f"{text} Report {d}, part {i}." for i, text in enumerate(about.values())]
        (corpus / f"doc{d}.txt").write_text("\n\n".join(paras * 2), "utf-8")
    book = ROOT / "experiments" / "codebook.toml"
    fast = {"consensus_runs": 1, "n_boot": 100, "n_perm": 100}
    seg = segments_from_corpus(load_corpus(corpus)).segments
    sheet = seg.groupby("doc_id").head(2)[["segment_id", "text"]].copy()
    sheet["code"] = [next(t for t, x in about.items() if x in s) for s in sheet["text"]]
    sheet.to_csv(tmp_path / "sheet.csv", index=False)

    few = topics.run(corpus, themes=book, coded=tmp_path / "sheet.csv", **fast)
    assert list(few.coded["segment_id"]) == list(sheet["segment_id"])
    assert {"code", "theme", "cv_theme"} <= set(few.coded.columns)
    info = few.manifest["themes"]
    assert info["n_coded"] == len(sheet) and "l2" in info and "l2_cv_loglik" in info

    # [themes] coded in a config, relative to the file; --coded on the command line wins
    (tmp_path / "run.toml").write_text(
        f'corpus = "corpus"\n[themes]\ncodebook = "{book.as_posix()}"\ncoded = "old.csv"\n'
        "[topics]\nconsensus_runs = 1\n[compare]\nn_boot = 100\nn_perm = 100\n",
        "utf-8",
    )
    assert load_config(tmp_path / "run.toml").themes.coded == str(tmp_path.resolve() / "old.csv")
    out = tmp_path / "cli"
    code = cli_main(
        ["run", "--config", str(tmp_path / "run.toml"), "--coded", str(tmp_path / "sheet.csv"),
         "--out", str(out), "--quiet"]
    )  # fmt: skip
    assert code == 0
    themes = pd.read_csv(out / "segments.csv", keep_default_na=False)["theme"]
    assert themes.tolist() == few.segments["theme"].fillna("").tolist()


def test_bootstrap_interval_is_expanded_for_few_documents():
    # Hesterberg's expanded percentile interval over G resampled documents: the quantiles at
    # the tail whose normal quantile is sqrt(G / (G - 1)) t(G - 1); wider than the plain one.
    from scipy.stats import norm, t

    rng = np.random.default_rng(0)
    for g in (8, 30):
        per_doc = rng.integers(0, 4, size=(g, 3, 3)).astype(float)
        per_doc[:, np.arange(3), np.arange(3)] += 3  # mostly agreeing
        lo, hi = coding._bootstrap(per_doc, None, 12, 400, 0.95, 1)
        counts = np.random.default_rng(1).multinomial(g, np.full(g, 1 / g), size=400)
        reps = np.array([coding._stats_from(np.tensordot(w, per_doc, axes=1)) for w in counts])
        tail = norm.cdf(-np.sqrt(g / (g - 1)) * t.ppf(0.975, g - 1))
        np.testing.assert_allclose(lo, np.maximum(np.nanquantile(reps, tail, axis=0), 0.0))
        np.testing.assert_allclose(hi, np.nanquantile(reps, 1 - tail, axis=0))
        plo, phi = np.nanquantile(reps, 0.025, axis=0), np.nanquantile(reps, 0.975, axis=0)
        assert (lo <= plo).all() and (hi >= phi).all() and (hi - lo > phi - plo).any()
