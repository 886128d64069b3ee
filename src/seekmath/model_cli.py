"""`seekmath model init --out DIR`: train the tiny tokenizer on generated text and save a fresh tiny model.
`seekmath model convert --gguf FILE --out DIR`: a GGUF checkpoint -> a normal HF folder (dequantised).

Both results are plain HF folders (safetensors + tokenizer with its chat template) that
AutoModelForCausalLM/AutoTokenizer load; every stage's `--model DIR` starts from them.
"""

from __future__ import annotations

import argparse
import logging

from seekmath.cli import add_config_arguments, config_from_args

log = logging.getLogger("seekmath.model")


def tokenizer_corpus(cfg) -> list[str]:
    """Text the tiny tokenizer is trained on: generated worked problems (train split only)."""
    from seekmath.models import COT_SUFFIX, chat_prompt
    from seekmath.tasks.synthetic import generate_problems, worked_text

    probs = generate_problems(cfg.tasks, "train", cfg.tokenizer.train_documents)
    return [worked_text(p) + "\n" + chat_prompt(p.question + COT_SUFFIX) for p in probs]


def init_model(cfg, out_dir, texts: list[str] | None = None):
    """Train the tokenizer (on `texts`, default generated problems), build the model, save both."""
    from seekmath.models import build_model, count_parameters, save_pretrained, train_tokenizer

    tok = train_tokenizer(texts or tokenizer_corpus(cfg), cfg.tokenizer.vocab_size)
    model = build_model(cfg.model, tok, seed=cfg.run.seed)
    save_pretrained(model, tok, out_dir)
    log.info("tiny %s model: %.2fM parameters, vocab %d -> %s", cfg.model.arch, count_parameters(model) / 1e6, len(tok), out_dir)
    return model, tok


def main(command: str, argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="seekmath model", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="action", required=True)
    init = sub.add_parser("init", help="build and save the tiny model and tokenizer")
    init.add_argument("--out", required=True, help="output folder (HF format)")
    add_config_arguments(init)
    conv = sub.add_parser("convert", help="turn a .gguf checkpoint into an HF folder (dequantised)")
    conv.add_argument("--gguf", required=True, help="the .gguf file")
    conv.add_argument("--out", required=True, help="output folder (HF format)")
    conv.add_argument("--dtype", default="float32", choices=["float32", "bfloat16", "float16"])
    args = parser.parse_args(argv)
    if args.action == "convert":
        from seekmath.models import convert_gguf

        out = convert_gguf(args.gguf, args.out, dtype=args.dtype)
        print(f"wrote {out}")
        return 0
    init_model(config_from_args(args), args.out)
    return 0
