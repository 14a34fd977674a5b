"""The exploration notebook executes top to bottom, offline."""

from __future__ import annotations

import pytest
from conftest import ROOT


@pytest.mark.slow
def test_explore_notebook_runs():
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    nb = nbformat.read(ROOT / "experiments" / "explore.ipynb", as_version=4)
    client = nbclient.NotebookClient(
        nb, timeout=900, kernel_name="python3", resources={"metadata": {"path": str(ROOT)}}
    )
    client.execute()
    outputs = [o for cell in nb.cells if cell.cell_type == "code" for o in cell.get("outputs", [])]
    assert not [o for o in outputs if o.get("output_type") == "error"]
    # The figures display inline as plotly output.
    assert any("application/vnd.plotly.v1+json" in o.get("data", {}) for o in outputs)


@pytest.mark.slow
def test_readme_python_quick_start_runs_as_written(monkeypatch):
    import re

    readme = (ROOT / "README.md").read_text("utf-8")
    block = re.search(r"```python\n(import topics\n.*?)```", readme, flags=re.S).group(1)
    assert len(block.strip().splitlines()) == 3
    monkeypatch.chdir(ROOT)
    scope: dict = {}
    exec(compile(block, "README.md", "exec"), scope)  # noqa: S102
    fig = eval(block.strip().splitlines()[-1], scope)  # the last line is the figure
    assert fig.to_dict()["data"]
