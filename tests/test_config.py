from __future__ import annotations

import tomllib

import pytest

from topics.config import RunConfig, config_from_dict, load_config
from topics.errors import TopicsError


def test_roundtrip_through_toml(tmp_path):
    cfg = RunConfig(corpus="seeds", seed=7)
    cfg.topics.consensus_runs = 3
    cfg.compare.by = ["focus"]
    p = tmp_path / "c.toml"
    p.write_text(cfg.to_toml(), "utf-8")
    back = config_from_dict(tomllib.loads(p.read_text("utf-8")))
    assert back == cfg


def test_relative_paths_resolve_against_config_file(tmp_path):
    (tmp_path / "exp").mkdir()
    p = tmp_path / "exp" / "c.toml"
    p.write_text('corpus = "../seeds"\n[themes]\ncodebook = "cb.toml"\n', "utf-8")
    cfg = load_config(p)
    assert cfg.corpus == str((tmp_path / "seeds").resolve())
    assert cfg.themes.codebook == str((tmp_path / "exp" / "cb.toml").resolve())


@pytest.mark.parametrize(
    "text,match",
    [
        ("seed = 1\nfoo = 2\n", "unknown setting"),
        ("[topics]\nmax_outliers = 'a lot'\n", "expected a number"),
        ("[ingest]\nstrict = 1\n", "expected true or false"),
        ("[topics\n", "not valid TOML"),
    ],
)
def test_config_errors(tmp_path, text, match):
    p = tmp_path / "c.toml"
    p.write_text(text, "utf-8")
    with pytest.raises(TopicsError, match=match):
        load_config(p)
