"""`seekmath rl [--config NAME] --model PATH --out DIR [--resume] [overrides]`.

Writes DIR/final/ (HF policy), DIR/metrics.jsonl (+ tb/, curves.png, summary.json) and, when a
reward model is trained (rl.reward=orm|prm), DIR/reward_model/.

    seekmath rl --config tiny --model runs/tiny/sft/final --out runs/tiny/rl
    seekmath rl --config tiny --model SFT --out OUT rl.reward=prm rl.iterations=2 rl.steps=20
    seekmath rl --config tiny --model SFT --out OUT rl.algorithm=online_rft
    seekmath rl --config deepseekmath-7b --plan --world-size 8 --gpu-memory 80   # per-GPU memory, fits or not
"""

from __future__ import annotations

import argparse
import sys


def main(command: str, argv: list[str]) -> int:
    from seekmath.cli import add_config_arguments, config_from_args

    parser = argparse.ArgumentParser(prog=f"seekmath {command}", description="GRPO and its family (DeepSeekMath §4, Algorithm 1)")
    parser.add_argument("--model", help="starting policy: an HF folder (usually the SFT stage's final/)")
    parser.add_argument("--out", help="output folder")
    parser.add_argument("--resume", action="store_true", help="continue from the latest checkpoint in --out")
    parser.add_argument("--stop-after", type=int, default=None, help="stop (checkpointed) after this many steps")
    parser.add_argument("--plan", action="store_true", help="print the per-GPU memory plan and whether it fits; train nothing")
    parser.add_argument("--world-size", type=int, default=1, help="--plan: number of GPUs (processes)")
    parser.add_argument("--gpu-memory", type=float, default=None,
                        help="GiB per GPU: --plan's budget (default 80); for a run, check the plan against it even on CPU")
    add_config_arguments(parser)
    args = parser.parse_args(argv)
    cfg = config_from_args(args)
    from pathlib import Path

    from seekmath.rl.memory_plan import PlanError, plan_for_config

    if args.plan:
        if args.world_size < 1:
            print("seekmath rl: --world-size must be >= 1", file=sys.stderr)
            return 2
        plan = plan_for_config(cfg, args.model, args.world_size, args.gpu_memory or 80.0)
        print(plan.table())
        return 0
    if not args.model or not args.out:
        print("seekmath rl: --model and --out are required (or --plan)", file=sys.stderr)
        return 2

    from seekmath.models import check_model_ref

    check_model_ref(args.model)  # a folder with config.json, a .gguf file or a hub id; else one line
    from seekmath.rl.grpo import run_rl

    try:
        final = run_rl(cfg, Path(args.model), Path(args.out), resume=args.resume, stop_after=args.stop_after,
                       gpu_memory_gb=args.gpu_memory)
    except PlanError as e:
        print(f"seekmath rl: the run does not fit in GPU memory; not starting.\n{e}", file=sys.stderr)
        return 2
    except ValueError as e:
        if str(e).startswith(("rl.", "model.")):
            print(f"seekmath rl: {e}", file=sys.stderr)
            return 2
        raise
    print(final)
    return 0
