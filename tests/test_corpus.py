from __future__ import annotations

import warnings
from pathlib import Path

import pytest
from conftest import make_docx, make_pdf

from topics.corpus import load_corpus
from topics.errors import CorpusError, InputFileError, SkippedFileWarning

KY = "Кыргызстандагы билим берүү системасы өнүгүп жатат. Мугалимдер жаңы ыкмаларды колдонушат."


def write(p: Path, data: bytes | str, encoding: str = "utf-8") -> Path:
    p.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, str):
        data = data.encode(encoding)
    p.write_bytes(data)
    return p


def load_quiet(folder, **kw):
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        corpus = load_corpus(folder, **kw)
    return corpus, [w for w in rec if issubclass(w.category, SkippedFileWarning)]


@pytest.mark.parametrize(
    "encoding,prefix",
    [
        ("utf-8", b""),
        ("utf-8-sig", b""),
        ("utf-16", b""),
        ("utf-16-le", b""),
        ("cp1251", b""),
        ("koi8_r", b""),
    ],
)
def test_text_encodings_detected(tmp_path, encoding, prefix):
    text = "Образование в Кыргызстане развивается. Учителя осваивают новые методы обучения."
    if encoding in ("cp1251", "koi8_r"):
        data = text.encode(encoding)
    else:
        data = prefix + text.encode(encoding)
    write(tmp_path / "doc.txt", data)
    corpus, skipped = load_quiet(tmp_path)
    assert not skipped
    assert corpus.documents[0].text.strip() == text


def test_kyrgyz_letters_in_utf16_and_utf8_bom(tmp_path):
    write(tmp_path / "a.txt", KY, "utf-16")
    write(tmp_path / "b.md", "\ufeff" + KY, "utf-8")
    corpus, _ = load_quiet(tmp_path)
    assert [d.text.lstrip("\ufeff").strip() for d in corpus.documents] == [KY, KY]


def test_docx_pdf_html_read(tmp_path):
    make_docx(tmp_path / "w.docx", ["Биринчи абзац.", "Экинчи абзац."])
    write(tmp_path / "p.pdf", make_pdf(["Distance learning in schools.", "Second line here."]))
    write(
        tmp_path / "h.html",
        "<html><head><title>x</title><script>var a=1;</script></head>"
        "<body><h1>Аталыш</h1><p>Биринчи <b>абзац</b>.</p><p>Экинчи.</p></body></html>",
    )
    corpus, skipped = load_quiet(tmp_path)
    assert not skipped
    by = {d.file: d for d in corpus.documents}
    assert "Биринчи абзац." in by["w.docx"].text and "Экинчи абзац." in by["w.docx"].text
    assert "Distance learning in schools." in by["p.pdf"].text
    html = by["h.html"].text
    assert "Биринчи абзац ." in html or "Биринчи абзац." in html
    assert "var a" not in html
    assert html.index("Аталыш") < html.index("Экинчи")


def test_corpus_csv_metadata_and_default_doc_id(tmp_path):
    write(tmp_path / "sub" / "a.txt", KY)
    write(tmp_path / "b.txt", KY)
    write(tmp_path / "corpus.csv", "file,focus,year\nsub/a.txt,school,2021\nb.txt,university,\n")
    corpus, _ = load_quiet(tmp_path)
    assert [d.doc_id for d in corpus.documents] == ["sub/a", "b"]
    assert corpus.documents[0].metadata == {"focus": "school", "year": "2021"}
    assert corpus.documents[1].metadata == {"focus": "university"}
    assert corpus.metadata_columns == ["focus", "year"]


@pytest.mark.parametrize(
    "sep,encoding",
    [(";", "cp1251"), (";", "utf-8-sig"), ("\t", "utf-16"), (",", "cp1251"), ("\t", "utf-8")],
)
def test_corpus_csv_as_spreadsheets_save_it(tmp_path, sep, encoding):
    # Excel in a Russian or Kyrgyz locale writes ";" and cp1251; "Unicode text" is UTF-16
    # with tabs.
    write(tmp_path / "a.txt", KY)
    write(tmp_path / "b.txt", KY)
    rows = [["file", "title", "focus", "note"], ["a.txt", "Мектептер, 2021", "school", "a; b"],
            ["b.txt", "Жогорку окуу жайлар", "university", ""]]  # fmt: skip
    quoted = [[f'"{c}"' if sep in c or "," in c or ";" in c else c for c in r] for r in rows]
    write(tmp_path / "corpus.csv", "\r\n".join(sep.join(r) for r in quoted) + "\r\n", encoding)
    corpus, _ = load_quiet(tmp_path)
    assert corpus.metadata_columns == ["title", "focus", "note"]
    assert corpus.documents[0].metadata == {
        "title": "Мектептер, 2021", "focus": "school", "note": "a; b"
    }  # fmt: skip
    assert corpus.documents[1].metadata["title"] == "Жогорку окуу жайлар"


def test_folder_without_table_skips_hidden_and_reports_unsupported(tmp_path):
    write(tmp_path / "a.txt", KY)
    write(tmp_path / ".hidden.txt", KY)
    write(tmp_path / "img.png", b"\x89PNG\r\n\x1a\n\x00\x00")
    corpus, skipped = load_quiet(tmp_path)
    assert [d.file for d in corpus.documents] == ["a.txt"]
    assert [s["reason"] for s in corpus.skipped] == ["unsupported"]
    assert "img.png" in str(skipped[0].message)


@pytest.mark.parametrize(
    "name,data,reason",
    [
        ("empty.txt", b"", "empty"),
        ("blank.txt", b"  \n\n ", "empty"),
        ("bin.txt", bytes(range(256)) * 20, "binary"),
        ("bad.docx", b"PK\x03\x04 not really a zip", "corrupt"),
        ("bad.pdf", b"%PDF-1.4\n garbage garbage", "corrupt"),
        ("x.rtf", b"{\\rtf1 hello}", "unsupported"),
    ],
)
def test_bad_files_skipped_with_reason_and_file_name(tmp_path, name, data, reason):
    write(tmp_path / "good.txt", KY)
    write(tmp_path / name, data)
    corpus, skipped = load_quiet(tmp_path)
    assert [d.file for d in corpus.documents] == ["good.txt"]
    assert len(corpus.skipped) == 1
    rec = corpus.skipped[0]
    assert rec["reason"] == reason and rec["file"] == name
    assert name in str(skipped[0].message)
    with pytest.raises(InputFileError, match=name):
        load_corpus(tmp_path, strict=True)


def test_a_broken_pdf_is_named_in_our_warning_and_pypdf_logs_nothing(tmp_path, caplog):
    # pypdf's own log lines ("EOF marker not found") reach stderr without the file's name.
    import logging

    caplog.set_level(logging.DEBUG)
    write(tmp_path / "good.txt", KY)
    write(tmp_path / "bad.pdf", b"%PDF-1.4 garbage")
    corpus, skipped = load_quiet(tmp_path)
    assert corpus.skipped[0]["file"] == "bad.pdf" and "bad.pdf" in str(skipped[0].message)
    assert not [r for r in caplog.records if r.name.startswith("pypdf")]
    assert logging.getLogger("pypdf").level == logging.NOTSET  # restored


def test_missing_listed_file_names_row(tmp_path):
    write(tmp_path / "a.txt", KY)
    write(tmp_path / "corpus.csv", "file,doc_id\na.txt,A\nmissing.txt,M\n")
    corpus, skipped = load_quiet(tmp_path)
    assert [d.doc_id for d in corpus.documents] == ["A"]
    assert corpus.skipped[0]["reason"] == "missing" and corpus.skipped[0]["row"] == 2
    assert "missing.txt (corpus.csv row 2)" in str(skipped[0].message)
    with pytest.raises(InputFileError, match=r"missing\.txt \(corpus\.csv row 2\)"):
        load_corpus(tmp_path, strict=True)


def test_path_escaping_corpus_is_refused(tmp_path):
    outside = write(tmp_path / "secret.txt", KY)
    corpus_dir = tmp_path / "corpus"
    write(corpus_dir / "a.txt", KY)
    write(corpus_dir / "corpus.csv", f"file\na.txt\n../secret.txt\n{outside}\n")
    corpus, _ = load_quiet(corpus_dir)
    assert [d.file for d in corpus.documents] == ["a.txt"]
    assert [s["reason"] for s in corpus.skipped] == ["outside-corpus", "outside-corpus"]
    with pytest.raises(InputFileError, match="outside the corpus"):
        load_corpus(corpus_dir, strict=True)


def test_duplicate_doc_id_is_an_error(tmp_path):
    write(tmp_path / "a.txt", KY)
    write(tmp_path / "b.txt", KY)
    write(tmp_path / "corpus.csv", "file,doc_id\na.txt,X\nb.txt,X\n")
    with pytest.raises(CorpusError, match=r"duplicate doc_id .*'X' on rows 1, 2"):
        load_corpus(tmp_path)


def test_table_without_file_column(tmp_path):
    write(tmp_path / "corpus.csv", "path,focus\na.txt,school\n")
    with pytest.raises(CorpusError, match="no `file` column"):
        load_corpus(tmp_path)


def test_nothing_readable_is_an_error(tmp_path):
    write(tmp_path / "empty.txt", b"")
    with pytest.raises(CorpusError, match="no readable document"):
        load_quiet(tmp_path)
    with pytest.raises(CorpusError, match="not found"):
        load_corpus(tmp_path / "nope")


def test_docx_text_box_is_read_once(tmp_path):
    """Word stores a text box twice (mc:Choice for new versions, mc:Fallback for old ones);
    only one copy is read."""
    import docx
    from docx.oxml import parse_xml

    d = docx.Document()
    d.add_paragraph("Биринчи абзац.")
    para = d.add_paragraph("Экинчи абзац. ")
    w = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
    mc = "http://schemas.openxmlformats.org/markup-compatibility/2006"
    box = (
        f'<mc:AlternateContent xmlns:mc="{mc}" xmlns:w="{w}">'
        '<mc:Choice Requires="wps"><w:r><w:t>Кутудагы текст.</w:t></w:r></mc:Choice>'
        "<mc:Fallback><w:r><w:t>Кутудагы текст.</w:t></w:r></mc:Fallback>"
        "</mc:AlternateContent>"
    )
    para._p.append(parse_xml(box))
    d.save(str(tmp_path / "box.docx"))
    corpus, skipped = load_quiet(tmp_path)
    assert not skipped
    text = {doc.file: doc for doc in corpus.documents}["box.docx"].text
    assert text.count("Кутудагы текст.") == 1
    assert "Экинчи абзац. Кутудагы текст." in text and "Биринчи абзац." in text
