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
    # It uses the entry point, then continues in BERTopic with one of its visualisations.
    code = {i: "".join(c.source) for i, c in enumerate(nb.cells) if c.cell_type == "code"}
    assert any("topics.run(" in src for src in code.values())
    handed = [i for i, src in code.items() if ".bertopic()" in src]
    assert handed, "the notebook never calls result.bertopic()"
    shown = [i for i, src in code.items() if i >= handed[0] and ".visualize_" in src]
    assert shown, "no BERTopic visualisation after result.bertopic()"
    assert any(
        "application/vnd.plotly.v1+json" in o.get("data", {}) for o in nb.cells[shown[0]].outputs
    )


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
