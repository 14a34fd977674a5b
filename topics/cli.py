"""The ``topics`` command line: ``topics ingest``, ``topics run``, ``topics export``."""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

from topics.errors import TopicsError, TopicsWarning

__all__ = ["main"]


def _add_common(p: argparse.ArgumentParser, out_required: bool = True) -> None:
    p.add_argument("--out", required=out_required, type=Path, help="output folder (must not exist)")
    p.add_argument("--overwrite", action="store_true", help="replace an existing --out folder")
    p.add_argument(
        "--strict",
        action="store_true",
        help="stop on the first unreadable document instead of skipping it",
    )
    p.add_argument("--quiet", action="store_true", help="no progress bars")


def _cmd_ingest(args: argparse.Namespace) -> int:
    from topics.ingest import ingest, write_ingest

    result = ingest(args.corpus, strict=args.strict, progress=not args.quiet)
    write_ingest(result, args.out, overwrite=args.overwrite)
    counts = result.manifest["counts"]
    langs = ", ".join(f"{k} {v}" for k, v in counts["by_language"].items())
    secs = ", ".join(f"{k} {v}" for k, v in counts["by_section"].items())
    print(
        f"ingested {counts['documents']} documents -> {counts['segments']} segments "
        f"({langs}; {secs}); skipped {len(result.manifest['files_skipped'])}; wrote {args.out}"
    )
    return 0


def _build_parser() -> argparse.ArgumentParser:
    from topics import __version__

    parser = argparse.ArgumentParser(
        prog="topics",
        description="Semantic topic modelling and comparison of national education corpora.",
    )
    parser.add_argument("--version", action="version", version=f"topics {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("ingest", help="read, clean and segment a corpus folder")
    p.add_argument("corpus", type=Path, help="corpus folder (optionally with corpus.csv)")
    _add_common(p)
    p.set_defaults(func=_cmd_ingest)

    from topics import _cli_run

    _cli_run.add_commands(sub, _add_common)
    return parser


def _show_warning(message, category, filename, lineno, file=None, line=None):  # noqa: D103
    print(f"warning: {message}", file=sys.stderr)


def _interrupted(exc: BaseException | None) -> bool:
    """Whether ``exc`` is a Ctrl-C: a KeyboardInterrupt, or the SystemError that compiled
    code (a numba kernel of the embedding or the layout) raises when the interrupt lands
    inside it, chained to the KeyboardInterrupt.
    """
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        if isinstance(exc, KeyboardInterrupt):
            return True
        seen.add(id(exc))
        exc = exc.__cause__ or exc.__context__
    return False


def main(argv: list[str] | None = None) -> int:
    """Run the ``topics`` command line; returns the process exit code."""
    parser = _build_parser()
    args = parser.parse_args(argv)
    with warnings.catch_warnings():
        warnings.simplefilter("always", TopicsWarning)
        old = warnings.showwarning
        warnings.showwarning = _show_warning
        try:
            return int(args.func(args) or 0)
        except TopicsError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        except (KeyboardInterrupt, SystemError) as exc:
            if not _interrupted(exc):
                raise
            print("interrupted: nothing was written to --out; rerun to resume", file=sys.stderr)
            return 130
        finally:
            warnings.showwarning = old


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
