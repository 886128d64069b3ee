"""`seekmath rl [--config NAME] --model PATH --out DIR [--resume] [overrides]`.

Writes DIR/final/ (HF policy), DIR/metrics.jsonl (+ tb/, curves.png, summary.json) and, when a
reward model is trained (rl.reward=orm|prm), DIR/reward_model/.

    seekmath rl --config tiny --model runs/tiny/sft/final --out runs/tiny/rl
    seekmath rl --config tiny --model SFT --out OUT rl.reward=prm rl.iterations=2 rl.steps=20
    seekmath rl --config tiny --model SFT --out OUT rl.algorithm=online_rft
"""

from __future__ import annotations

import argparse
import sys


def main(command: str, argv: list[str]) -> int:
    from seekmath.cli import add_config_arguments, config_from_args

    parser = argparse.ArgumentParser(prog=f"seekmath {command}", description="GRPO and its family (DeepSeekMath §4, Algorithm 1)")
    parser.add_argument("--model", required=True, help="starting policy: an HF folder (usually the SFT stage's final/)")
    parser.add_argument("--out", required=True, help="output folder")
    parser.add_argument("--resume", action="store_true", help="continue from the latest checkpoint in --out")
    parser.add_argument("--stop-after", type=int, default=None, help="stop (checkpointed) after this many steps")
    add_config_arguments(parser)
    args = parser.parse_args(argv)
    cfg = config_from_args(args)
    from pathlib import Path

    from seekmath.models import check_model_ref

    check_model_ref(args.model)  # a folder with config.json, a .gguf file or a hub id; else one line
    from seekmath.rl.grpo import run_rl

    try:
        final = run_rl(cfg, Path(args.model), Path(args.out), resume=args.resume, stop_after=args.stop_after)
    except ValueError as e:
        if str(e).startswith("rl."):
            print(f"seekmath rl: {e}", file=sys.stderr)
            return 2
        raise
    print(final)
    return 0
