"""``topics verify RUN``: redo a run from its own folder and say whether its findings hold.

The run is redone from ``RUN/config.toml`` and ``RUN/embeddings.safetensors`` (no embedding
model is needed when the texts are unchanged), written to a temporary folder, and every
table is compared with the one in ``RUN``:

- ``identical``: the same bytes;
- ``same findings``: not byte-identical, but the same number of topics, topic assignments
  with ARI >= ``min_ari``, >= ``min_theme_agreement`` of theme assignments identical, and
  no prevalence share or group difference moved by more than ``max_share_change``;
- ``different``: anything else (the command then exits with status 1).

Example
-------
>>> from topics.verify import verify
>>> report = verify("results/consortium")                      # doctest: +SKIP
>>> report.ok, report.table()                                  # doctest: +SKIP
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from topics.errors import TopicsError

__all__ = ["TableCheck", "VerifyReport", "verify"]

_TABLES = ("segments.csv", "topics.csv", "themes.csv", "prevalence.csv", "differences.csv")


@dataclass
class TableCheck:
    """The outcome for one table: ``status`` and the measures behind it."""

    table: str
    status: str
    details: dict = field(default_factory=dict)


@dataclass
class VerifyReport:
    """Outcome of :func:`verify`.

    Attributes
    ----------
    checks : list of TableCheck
        One per table present in the run folder.
    embeddings : str
        Where the rerun's embeddings came from (the saved file, or the model and why).
    versions : dict
        What differs between the run's recorded software and machine
        (``manifest.json`` ``versions``) and the rerun's: ``name -> (run's, rerun's)``; the
        first place to look when findings change.
    """

    checks: list[TableCheck]
    embeddings: str
    versions: dict[str, tuple] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """True when no table is ``different``."""
        return all(c.status != "different" for c in self.checks)

    def table(self) -> pd.DataFrame:
        """One row per table: ``table``, ``status``, ``details`` (a short text)."""
        return pd.DataFrame(
            [
                {
                    "table": c.table,
                    "status": c.status,
                    "details": ", ".join(f"{k} {_fmt(v)}" for k, v in c.details.items()),
                }
                for c in self.checks
            ]
        )


def _changed_versions(run_dir: Path, now: dict) -> dict[str, tuple]:
    """``name -> (recorded, now)`` for each entry of the run's ``versions`` that differs now
    (entries the run did not record are not compared).
    """
    import json

    try:
        manifest = json.loads((run_dir / "manifest.json").read_text("utf-8"))
    except (OSError, ValueError):
        return {}
    then = manifest.get("versions") or {}
    return {k: (v, now.get(k)) for k, v in then.items() if v != now.get(k)}


def _fmt(v) -> str:
    if isinstance(v, float):
        return f"{v:.4g}"
    return str(v)


def _read(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, keep_default_na=False, na_values=[""], dtype={"doc_id": str})


def _topic_map(old: pd.Series, new: pd.Series) -> dict[int, int]:
    """Each new topic id -> the old topic it overlaps most (for comparing topic rows)."""
    out = {}
    frame = pd.DataFrame({"old": old.to_numpy(), "new": new.to_numpy()})
    for k, grp in frame.groupby("new"):
        out[int(k)] = int(grp["old"].value_counts().index[0])
    return out


def _modelled(seg: pd.DataFrame) -> pd.DataFrame:
    seg = seg[pd.to_numeric(seg["topic"], errors="coerce").notna()].copy()
    seg["topic"] = seg["topic"].astype(int)
    return seg.set_index("segment_id")


def _assignments(old_seg: pd.DataFrame, new_seg: pd.DataFrame) -> dict:
    from sklearn.metrics import adjusted_rand_score

    a, b = _modelled(old_seg), _modelled(new_seg)
    common = a.index.intersection(b.index)
    ta, tb = a.loc[common, "topic"], b.loc[common, "topic"]
    out = {
        "topics": f"{len(set(ta) - {-1})} -> {len(set(tb) - {-1})}",
        "same_topic_count": len(set(ta) - {-1}) == len(set(tb) - {-1}),
        "ARI": float(adjusted_rand_score(ta, tb)) if len(common) else float("nan"),
        "segments_missing": int(len(a.index.symmetric_difference(b.index))),
        "map": _topic_map(ta, tb),
    }
    if "theme" in a.columns and "theme" in b.columns:

        def themes(t: pd.DataFrame) -> np.ndarray:  # no codebook: an all-empty (float) column
            col = t.loc[common, "theme"]
            return np.where(col.isna(), "", col.astype(str))

        out["theme_agreement"] = (
            float(np.mean(themes(a) == themes(b))) if len(common) else float("nan")
        )
    return out


def _largest_change(old: pd.DataFrame, new: pd.DataFrame, value: str, keys: list[str], tmap):
    """Largest absolute change of ``value`` between rows matched on ``keys`` (new topic ids
    mapped to old ones); rows present in only one table count as a change of the value.
    """
    old, new = old.copy(), new.copy()
    if "topic" in new.columns and "kind" in new.columns:
        is_topic = new["kind"] == "topic"
        new.loc[is_topic, "topic"] = [
            tmap.get(int(t), int(t)) for t in pd.to_numeric(new.loc[is_topic, "topic"])
        ]
    for frame in (old, new):
        for k in keys:
            frame[k] = frame[k].astype(str)
    old = old.groupby(keys, dropna=False)[value].sum()
    new = new.groupby(keys, dropna=False)[value].sum()
    both = pd.concat([old.rename("a"), new.rename("b")], axis=1).fillna(0.0)
    return float((both["a"] - both["b"]).abs().max()) if len(both) else 0.0


def compare_runs(
    old: Path,
    new: Path,
    *,
    min_ari: float = 0.95,
    min_theme_agreement: float = 0.99,
    max_share_change: float = 0.02,
) -> list[TableCheck]:
    """Compare the tables of two run folders (see the module docstring for the statuses)."""
    old, new = Path(old), Path(new)
    checks = []
    assign = None
    if (old / "segments.csv").exists() and (new / "segments.csv").exists():
        assign = _assignments(_read(old / "segments.csv"), _read(new / "segments.csv"))
    tmap = assign["map"] if assign else {}
    topics_ok = bool(
        assign
        and assign["same_topic_count"]
        and assign["ARI"] >= min_ari
        and assign["segments_missing"] == 0
    )
    themes_ok = bool(assign) and assign.get("theme_agreement", 1.0) >= min_theme_agreement
    for name in _TABLES:
        a, b = old / name, new / name
        if not a.exists() and not b.exists():
            continue
        if not a.exists() or not b.exists():
            missing = "the run" if not a.exists() else "the rerun"
            checks.append(TableCheck(name, "different", {"missing in": missing}))
            continue
        if a.read_bytes() == b.read_bytes():
            checks.append(TableCheck(name, "identical"))
            continue
        details: dict = {}
        ok = True
        if name in ("segments.csv", "topics.csv"):
            details = {"topics": assign["topics"], "ARI": assign["ARI"]}
            ok = topics_ok
            if name == "segments.csv" and "theme_agreement" in assign:
                details["themes identical"] = assign["theme_agreement"]
                ok = ok and themes_ok
        elif name == "themes.csv":
            details = {"themes identical": assign.get("theme_agreement", float("nan"))}
            ok = themes_ok
        else:
            value = "share" if name == "prevalence.csv" else "diff"
            old_t, new_t = _read(a), _read(b)
            keys = [c for c in ("by", "group", "group_a", "group_b", "kind", "topic", "theme")
                    if c in old_t.columns]  # fmt: skip
            change = _largest_change(old_t, new_t, value, keys, tmap)
            details = {f"largest {value} change": change}
            ok = change <= max_share_change and topics_ok and themes_ok
            if value == "diff" and "q_value" in old_t.columns:
                sig_a = int((pd.to_numeric(old_t["q_value"], errors="coerce") < 0.05).sum())
                sig_b = int((pd.to_numeric(new_t["q_value"], errors="coerce") < 0.05).sum())
                details["significant (q<0.05)"] = f"{sig_a} -> {sig_b}"
                ok = ok and sig_a == sig_b
        checks.append(TableCheck(name, "same findings" if ok else "different", details))
    return checks


def verify(
    run_dir: str | Path,
    *,
    min_ari: float = 0.95,
    min_theme_agreement: float = 0.99,
    max_share_change: float = 0.02,
    progress: bool | None = None,
) -> VerifyReport:
    """Redo a run from its folder and compare every table with the saved one.

    Parameters
    ----------
    run_dir : str or pathlib.Path
        A folder written by ``topics run`` (with ``config.toml``; ``embeddings.safetensors``
        spares the embedding model).
    min_ari, min_theme_agreement, max_share_change : float
        What still counts as the same findings (see the module docstring).
    progress : bool, optional
        Progress bars, by default as :func:`topics.run` shows them.

    Returns
    -------
    VerifyReport
    """
    from topics._embstore import FILE_NAME, SavedEmbeddings
    from topics.config import load_config
    from topics.pipeline import run, write_run

    run_dir = Path(run_dir)
    if not (run_dir / "config.toml").exists():
        raise TopicsError(
            f"{run_dir}: no config.toml; `topics verify` needs a run folder written by `topics run`"
        )
    cfg = load_config(run_dir / "config.toml")
    saved = SavedEmbeddings.load(run_dir / FILE_NAME) if (run_dir / FILE_NAME).exists() else None
    result = run(cfg, progress=progress, saved=saved)
    source = result.manifest.get("embeddings", {}).get("source", "")
    versions = _changed_versions(run_dir, result.manifest.get("versions", {}))
    with tempfile.TemporaryDirectory(prefix="topics-verify-") as tmp:
        out = Path(tmp) / "rerun"
        write_run(result, out, report=False)
        checks = compare_runs(
            run_dir,
            out,
            min_ari=min_ari,
            min_theme_agreement=min_theme_agreement,
            max_share_change=max_share_change,
        )
    return VerifyReport(checks=checks, embeddings=source, versions=versions)
