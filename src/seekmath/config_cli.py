"""`seekmath config show NAME [overrides]` prints the merged config; `seekmath config list` the names."""

from __future__ import annotations

import argparse

from seekmath.cli import config_from_args
from seekmath.config import config_names, dump_config


def main(command: str, argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="seekmath config", description=__doc__)
    sub = parser.add_subparsers(dest="action", required=True)
    show = sub.add_parser("show", help="print the merged config as YAML")
    show.add_argument("name", nargs="?", default="tiny", help="config name or YAML path")
    show.add_argument("overrides", nargs="*", metavar="KEY=VALUE")
    sub.add_parser("list", help="list the configs shipped in configs/")
    args = parser.parse_args(argv)
    if args.action == "list":
        print("\n".join(config_names()))
        return 0
    args.config = args.name
    print(dump_config(config_from_args(args)), end="")
    return 0
