"""The `hf` generation engine vs plain `model.generate` on the same tiny model and batch.

    .venv/bin/python bench/generate_vs_hf.py [--config tiny] [--batch 64] [--new 64] [--repeats 3]

Both sides get the same left-padded prompts (synthetic test questions in the chat format), the same
sampling settings (temperature 0.7, top-p 0.95) and the same token budget; EOS ends a row in both.
Three workloads of the same batch size (rows): `--batch` distinct prompts x 1 sample (evaluation's
greedy pass), `--batch/--n` prompts x `--n` samples (GRPO's groups, maj@k; `num_return_sequences` for
generate), and the same with the 3-shot synthetic prompt a pretrain-only model is evaluated with
(long shared exemplars: where prefilling each distinct prompt once matters most).
tokens/s counts generated tokens kept (up to and including EOS) per wall second, median of repeats.
The model is a freshly initialised tiny model unless --model PATH is given (a trained checkpoint
ends rows earlier, where the engine's dropping of finished rows pays off more).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time

import torch


def width_of(tok, prompts) -> int:
    return max(len(x) for x in tok(prompts)["input_ids"])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--config", default="tiny")
    ap.add_argument("--model", default=None, help="a checkpoint folder (default: a fresh model of --config)")
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--new", type=int, default=64, help="max new tokens")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--n", type=int, default=8, help="samples per prompt in the second workload")
    ap.add_argument("--threads", type=int, default=1, help="1 is steadier on a shared 2-core machine")
    ap.add_argument("--greedy", action="store_true", help="temperature 0 instead of 0.7/0.95 sampling")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)

    from seekmath.config import load_config
    from seekmath.generate import make_engine
    from seekmath.model_cli import init_model
    from seekmath.models import COT_SUFFIX, chat_prompt, load_model, load_tokenizer
    from seekmath.tasks.synthetic import generate_problems

    cfg = load_config(args.config)
    if args.model:
        model, tok = load_model(args.model, device="cpu"), load_tokenizer(args.model)
    else:
        model, tok = init_model(cfg, tempfile.mkdtemp(prefix="bench-gen-") + "/model")
    model.eval()
    probs = generate_problems(cfg.tasks, "test", args.batch, seed=1)
    all_prompts = [chat_prompt(p.question + COT_SUFFIX) for p in probs]
    temperature, top_p = (0.0, 1.0) if args.greedy else (0.7, 0.95)
    engine = make_engine("hf", model, tok, batch_size=args.batch)

    def timed(fn) -> tuple[int, float]:
        fn()  # warm-up
        rates, toks = [], 0
        for _ in range(args.repeats):
            t = time.perf_counter()
            toks = fn()
            rates.append(toks / (time.perf_counter() - t))
        return toks, statistics.median(rates)

    def workload(prompts: list[str], n: int):
        enc = tok(prompts, return_tensors="pt", padding=True)
        width = enc["input_ids"].shape[1]

        def run_generate() -> int:
            torch.manual_seed(0)
            with torch.inference_mode():
                out = model.generate(**enc, do_sample=temperature > 0, temperature=temperature or None,
                                     top_p=top_p if temperature > 0 else None, top_k=None, max_new_tokens=args.new,
                                     num_return_sequences=n, eos_token_id=tok.eos_token_id, pad_token_id=tok.pad_token_id)
            kept = 0
            for row in out[:, width:].tolist():
                kept += row.index(tok.eos_token_id) + 1 if tok.eos_token_id in row else len(row)
            return kept

        def run_engine() -> int:
            outs = engine.generate(prompts, n=n, temperature=temperature, top_p=top_p, max_new_tokens=args.new, seed=0)
            return sum(len(c.token_ids) for o in outs for c in o)

        return timed(run_generate), timed(run_engine)

    from seekmath.evaluate.prompts import build_prompt

    shots = generate_problems(cfg.tasks, "train", 3, seed=2)  # 3 shots keep prompt + 64 new tokens within 512 positions
    fewshot = [build_prompt("fewshot", "synthetic", p, synthetic_shots=shots).text for p in probs]
    n2 = args.n if temperature > 0 else 1
    results = [(f"{args.batch} prompts x 1", workload(all_prompts, 1)),
               (f"{args.batch // n2} prompts x {n2}", workload(all_prompts[: args.batch // n2], n2)),
               (f"3-shot {args.batch // n2} x {n2}", workload(fewshot[: args.batch // n2], n2))]
    n_params = sum(p.numel() for p in model.parameters()) / 1e6
    print(f"\nmodel {args.config} ({n_params:.2f}M params), batch {args.batch} rows, max_new_tokens {args.new}, "
          f"{'greedy' if temperature == 0 else 'T=0.7 top-p=0.95'}, {args.threads} thread(s), median of {args.repeats}")
    print(f"{'workload':<20}{'generate tok/s':>16}{'engine tok/s':>14}{'ratio':>8}")
    for name, ((_, base), (_, mine)) in results:
        print(f"{name:<20}{base:>16.0f}{mine:>14.0f}{mine / base:>8.2f}")
    lens = [len(x) for x in tok(fewshot)["input_ids"]]
    print(f"(prompt tokens: zero-shot ~{width_of(tok, all_prompts)}, 3-shot ~{max(lens)})")

if __name__ == "__main__":
    main()
