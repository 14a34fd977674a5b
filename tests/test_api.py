"""The package's public API: small, lazy, and free of import-time side effects."""

from __future__ import annotations

import subprocess
import sys


def test_import_is_light_and_changes_no_global_state():
    code = (
        "import os, sys, warnings; before = (list(warnings.filters), dict(os.environ)); "
        "import topics; "
        "assert (list(warnings.filters), dict(os.environ)) == before; "
        "heavy = [m for m in ('bertopic', 'torch', 'umap', 'sentence_transformers') "
        "if m in sys.modules]; "
        "assert not heavy, heavy; print(topics.__version__)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip()


def test_public_names_resolve():
    import topics
    from topics.config import RunConfig
    from topics.pipeline import run
    from topics.result import Result

    assert topics.RunConfig is RunConfig and topics.run is run and topics.Result is Result
    assert set(topics.__all__) <= set(dir(topics))
    try:
        topics.no_such_name  # noqa: B018
    except AttributeError as exc:
        assert "no_such_name" in str(exc)
    else:  # pragma: no cover
        raise AssertionError("unknown names must raise AttributeError")
