"""`seekmath pretrain` and `seekmath sft`: continued pretraining and SFT (paper §2.1-2.2).

    seekmath pretrain --config tiny --out runs/tiny/pretrain
    seekmath pretrain --config tiny --data "runs/tiny/corpus@0.56,filler@0.1,synthetic@0.34" --out runs/p
    seekmath sft --config tiny --model runs/tiny/pretrain/final --out runs/tiny/sft
    torchrun --nproc-per-node 2 -m seekmath pretrain --config smoke --out runs/ddp
    seekmath pretrain --config tiny --out runs/tiny/pretrain --resume     # after an interruption

Writes DIR/checkpoints/step-N/, DIR/final/ (HF model + tokenizer), DIR/metrics.jsonl, DIR/tb/, DIR/loss.png.
"""

from __future__ import annotations

import argparse
import sys

from seekmath.cli import add_config_arguments, config_from_args


def main(command: str, argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog=f"seekmath {command}", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default=None, help="HF model folder or id to start from (default: a fresh tiny model)")
    parser.add_argument("--data", default=None,
                        help="comma-separated SOURCE[@WEIGHT]: a corpus folder, .jsonl[.gz]/.parquet, hf:NAME[:CONFIG[:SPLIT]], "
                             "synthetic, filler (pretrain); synthetic, a task name (gsm8k_train) or a jsonl file (sft)")
    parser.add_argument("--out", required=True, help="output folder")
    parser.add_argument("--resume", action="store_true", help="continue from the newest checkpoint in --out")
    add_config_arguments(parser)
    args = parser.parse_args(argv)
    cfg = config_from_args(args)
    from seekmath.models import check_model_ref

    if args.model or cfg.model.name_or_path:  # a wrong path fails in one line, before anything loads
        check_model_ref(args.model or cfg.model.name_or_path)

    from seekmath.train.data import DataError
    from seekmath.train.trainer import train_stage

    try:
        final = train_stage(cfg, command, args.out, model_path=args.model, data=args.data, resume=args.resume)
    except DataError as e:
        print(f"seekmath {command}: error: {e}", file=sys.stderr)
        return 2
    print(final)
    return 0
