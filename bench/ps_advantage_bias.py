"""What process supervision's advantages push for, next to outcome supervision's, on the same samples.

The findings study (issue 15) saw GRPO with a PRM trained on exact step labels end below GRPO with the
outcome reward (-7.3 points [-14.4, -0.2] at 300 CPU-s, 3 seeds), one seed drifting to short, wrong
answers (length 58 -> 42 tokens, accuracy -> 1%). This script measures the mechanism instead of
guessing it. From one policy it samples G outputs per tuning-split question (the RL settings of the
run's config), labels every step exactly (rl/step_labels.py: the PRM's training target, the upper
bound of what any PRM can say) and computes, for the same samples:

    OS  outcome_advantages(correct)                   (eq. 3, the paper's outcome supervision)
    PS  process_advantages(exact step labels, ends)   (the paper's process supervision, §4.1.3)

and reports, per kind, over all groups and by the group's accuracy: the token-mean advantage of each
output (what GRPO's per-sequence token mean pushes), the share of all push that is negative, the share
of the positive push that lands on WRONG outputs, and the within-group correlation between an output's
length and its push, among wrong and among correct outputs. A positive push on
wrong outputs is what an outcome reward never gives (its advantages sum to zero with the right ones
above the wrong ones); a length correlation shows which lengths the update favours.

    .venv/bin/python bench/ps_advantage_bias.py runs/findings/sft/final --config runs/findings/config.yaml
    .venv/bin/python bench/ps_advantage_bias.py runs/findings/findings/grpo_ps_exact/seed2/final --config runs/findings/config.yaml
    .venv/bin/python bench/ps_advantage_bias.py runs/findings/sft/final --config runs/findings/config.yaml tasks.max_steps=1

Prints a table; `--out FILE.json` keeps the numbers.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path


def pearson(x: list[float], y: list[float]) -> float:
    """Pearson correlation; NaN when either side is constant or there are fewer than 3 pairs."""
    n = len(x)
    if n < 3:
        return float("nan")
    mx, my = sum(x) / n, sum(y) / n
    sxy = sum((a - mx) * (b - my) for a, b in zip(x, y))
    sxx = sum((a - mx) ** 2 for a in x)
    syy = sum((b - my) ** 2 for b in y)
    return sxy / math.sqrt(sxx * syy) if sxx > 0 and syy > 0 else float("nan")


def within_group(values: list[float], groups: list[int]) -> list[float]:
    """Each value minus its group's mean: correlations across groups then compare outputs of one question."""
    sums: dict[int, list[float]] = {}
    for v, g in zip(values, groups):
        sums.setdefault(g, []).append(v)
    means = {g: sum(v) / len(v) for g, v in sums.items()}
    return [v - means[g] for v, g in zip(values, groups)]


def push_stats(push: list[float], lengths: list[int], correct: list[bool], groups: list[int]) -> dict:
    """Share of positive push on wrong outputs; share of all push that is negative; mean push of wrong /
    right; within-group length correlations."""
    pos = sum(p for p in push if p > 0)
    neg = -sum(p for p in push if p < 0)
    pos_wrong = sum(p for p, c in zip(push, correct) if p > 0 and not c)
    wrong = [p for p, c in zip(push, correct) if not c]
    right = [p for p, c in zip(push, correct) if c]
    lw, pw = within_group([float(x) for x in lengths], groups), within_group(push, groups)
    corr = {}
    for name, keep in (("wrong", [not c for c in correct]), ("correct", correct)):
        xs = [a for a, k in zip(lw, keep) if k]
        ys = [b for b, k in zip(pw, keep) if k]
        corr[name] = pearson(xs, ys)
    return {"positive_push_on_wrong": pos_wrong / pos if pos > 0 else float("nan"),
            "negative_share": neg / (pos + neg) if pos + neg > 0 else float("nan"),
            "wrong_with_positive_push": sum(p > 0 for p in wrong) / max(1, len(wrong)),
            "mean_push_wrong": sum(wrong) / max(1, len(wrong)), "mean_push_correct": sum(right) / max(1, len(right)),
            "corr_length_push_wrong": corr["wrong"], "corr_length_push_correct": corr["correct"]}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("model", help="policy (HF folder)")
    ap.add_argument("--config", default="tiny", help="the run's config (its tasks and rl sampling settings)")
    ap.add_argument("--questions", type=int, default=128, help="tuning-split questions")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", help="write the numbers here (JSON)")
    ap.add_argument("overrides", nargs="*", metavar="KEY=VALUE", help="config overrides, e.g. tasks.max_steps=1 (an easier task)")
    args = ap.parse_args(argv)
    if not (Path(args.model) / "config.json").is_file():
        print(f"ps_advantage_bias: {args.model} is not an HF model folder (no config.json)", file=sys.stderr)
        return 2

    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from seekmath.config import load_config
    from seekmath.rl.advantages import outcome_advantages, process_advantages
    from seekmath.rl.grpo import build_engine, policy_prompt
    from seekmath.rl.rewards import RuleReward
    from seekmath.rl.segment import step_end_token_indices
    from seekmath.rl.step_labels import exact_label_batch
    from seekmath.tasks.synthetic import generate_problems

    torch.set_num_threads(1)
    cfg = load_config(args.config, args.overrides)
    rl = cfg.rl
    G = rl.group_size
    tok = AutoTokenizer.from_pretrained(args.model)
    model = AutoModelForCausalLM.from_pretrained(args.model).eval()
    problems = generate_problems(cfg.tasks, "tune", args.questions)
    prompts = [policy_prompt(p.question, tok, cfg.model.prompt_format) for p in problems]
    outs = build_engine(cfg, model, tok).generate(prompts, n=G, temperature=rl.temperature, top_p=rl.top_p,
                                                  max_new_tokens=rl.max_new_tokens, seed=args.seed)
    flat = [c for group in outs for c in group]
    texts = [c.text for c in flat]
    correct = RuleReward(mode=rl.rule_mode)(texts, [p.answer for p in problems for _ in range(G)]).float()
    labels = exact_label_batch([p for p in problems for _ in range(G)], texts, correct.tolist(), rl.step_rule)
    ends = [step_end_token_indices(tok, c.token_ids, c.text, rl.step_rule) for c in flat]
    lengths = [len(c.token_ids) for c in flat]
    groups = [i // G for i in range(len(flat))]
    mask = torch.zeros(len(flat), max(lengths))
    for i, n in enumerate(lengths):
        mask[i, :n] = 1

    def token_mean(adv: torch.Tensor) -> list[float]:
        adv = adv if adv.dim() == 2 else adv[:, None].expand_as(mask)
        return ((adv * mask).sum(1) / mask.sum(1).clamp(min=1)).tolist()

    kinds = {"OS": token_mean(outcome_advantages(correct, G).values),
             "PS": token_mean(process_advantages(labels, ends, lengths, G).values)}
    ok = [bool(c) for c in correct.tolist()]
    rows = {k: push_stats(v, lengths, ok, groups) for k, v in kinds.items()}
    group_acc = [sum(ok[g * G:(g + 1) * G]) / G for g in range(len(problems))]
    buckets = {"no correct output": lambda a: a == 0, "1-50% correct": lambda a: 0 < a <= 0.5, "over 50% correct": lambda a: a > 0.5}
    for name, test in buckets.items():
        keep = [i for i, g in enumerate(groups) if test(group_acc[g])]
        for k, v in kinds.items():
            if keep:
                rows[f"{k}, {name} ({len(keep) // G} groups)"] = push_stats([v[i] for i in keep], [lengths[i] for i in keep],
                                                                           [ok[i] for i in keep], [groups[i] for i in keep])
    wrong_len = [n for n, c in zip(lengths, ok) if not c]
    right_len = [n for n, c in zip(lengths, ok) if c]
    info = {"model": args.model, "questions": len(problems), "G": G, "accuracy": sum(ok) / len(ok),
            "mean_length_wrong": sum(wrong_len) / max(1, len(wrong_len)), "mean_length_correct": sum(right_len) / max(1, len(right_len)),
            "steps_per_output": sum(len(x) for x in labels) / len(labels),
            "wrong_with_correct_first_step": sum(1 for x, c in zip(labels, ok) if not c and x and x[0] == 1.0) / max(1, ok.count(False))}
    print(f"# {args.model}: {len(problems)} tuning questions x G {G} at T {rl.temperature}; sampled accuracy {info['accuracy']:.3f}; "
          f"length wrong {info['mean_length_wrong']:.1f} / correct {info['mean_length_correct']:.1f} tokens; "
          f"{info['steps_per_output']:.2f} steps per output; wrong outputs whose first step is right: {info['wrong_with_correct_first_step']:.2f}")
    print("| advantage (groups) | negative share of all push | share of the positive push on wrong outputs | wrong outputs pushed up "
          "| mean push wrong | mean push correct | corr(length, push) wrong | corr(length, push) correct |")
    print("|---|---|---|---|---|---|---|---|")
    for k, r in rows.items():
        print(f"| {k} | {r['negative_share']:.2f} | {r['positive_push_on_wrong']:.2f} | {r['wrong_with_positive_push']:.2f} | {r['mean_push_wrong']:+.3f} | "
              f"{r['mean_push_correct']:+.3f} | {r['corr_length_push_wrong']:+.2f} | {r['corr_length_push_correct']:+.2f} |")
    if args.out:
        Path(args.out).write_text(json.dumps({**info, "rows": rows}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
