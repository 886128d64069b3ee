"""The RL stage's questions (`rl.data`) and its held-out set (`rl.eval_data`).

`rl.data` takes the items `sft.data` takes (`SOURCE` or `SOURCE@W`): `synthetic` (the generated task),
a loader name (`gsm8k_train`, `math_train`, ...: see tasks/loaders.py), a local jsonl/parquet of
question + answer records, an HF dataset name (`hf:NAME[:CONFIG[:SPLIT]]`, split `train` by
default, or a bare `owner/name` as `sft`/`eval` read it). DeepSeekMath §3.5 trains GRPO on the
GSM8K and MATH training questions: `rl.data: [gsm8k_train, math_train]`.

W scales a source's share of the prompt pool: W times its questions (0.5 = a seeded half, 2 = each
question twice), so a mixture can be tilted without editing files.
"""

from __future__ import annotations

import random

from seekmath.tasks.loaders import TaskError, load_hf, load_problems

HOW_TO = ("put the benchmark's file under $SEEKMATH_DATA_DIR (the path is in tasks/loaders.py BENCHMARKS), or let the "
          "`datasets` library download it once with network access (HF_DATASETS_OFFLINE=0); a local jsonl of "
          "{question, answer} records works too")


def load_source(spec: str, cfg, n: int | None = None) -> list:
    """The problems of one rl.data item (training split)."""
    if spec == "synthetic":
        from seekmath.tasks.synthetic import generate_problems

        return generate_problems(cfg.tasks, "train", n=n or cfg.tasks.num_train)
    try:
        if spec.startswith("hf:"):
            name, config, split = (spec[3:].split(":") + ["", ""])[:3]
            return load_hf(name, config or None, split or "train")[:n] if n else load_hf(name, config or None, split or "train")
        return load_problems(spec, limit=n, tasks_cfg=cfg.tasks, split="train")
    except TaskError as e:  # the named benchmarks already say how to get their file
        raise ValueError(f"rl.data {spec!r}: {e}" + ("" if "HF_DATASETS_OFFLINE" in str(e) else f"; to get it: {HOW_TO}")) from None


def weighted(problems: list, weight: float, seed: int) -> list:
    """`weight` times the list: whole copies, then a seeded sample for the fraction."""
    whole, frac = divmod(weight, 1.0)
    extra = round(frac * len(problems))
    return problems * int(whole) + random.Random(seed).sample(problems, extra)


def load_rl_questions(cfg) -> tuple[list, list]:
    """(training questions, held-out questions) for the RL stage; a bad source fails with one line."""
    from seekmath.train.data import DataError, parse_data_spec

    rl = cfg.rl
    try:
        items = parse_data_spec(rl.data)
    except DataError as e:
        raise ValueError(f"rl.data: {e}") from None
    only_synthetic = all(spec == "synthetic" for spec, _ in items)
    pool: list = []
    for k, (spec, w) in enumerate(items):
        probs = load_source(spec, cfg, n=(rl.train_problems or None) if spec == "synthetic" else None)
        if not probs:
            raise ValueError(f"rl.data {spec!r}: no questions")
        pool.extend(weighted(probs, w, rl.seed + k) if w != 1 else probs)
    eval_set: list = []
    if rl.eval_problems > 0:
        if rl.eval_data:
            try:
                eval_set = load_problems(rl.eval_data, limit=rl.eval_problems, tasks_cfg=cfg.tasks, split="test")
            except TaskError as e:
                raise ValueError(f"rl.eval_data {rl.eval_data!r}: {e}; to get it: {HOW_TO}") from None
        elif only_synthetic:
            from seekmath.tasks.synthetic import generate_problems

            eval_set = generate_problems(cfg.tasks, "tune", n=rl.eval_problems)  # in-loop numbers: the tuning split
        else:  # hold distinct questions out of the pool (seeded): never trained on, in any copy
            distinct = list({p.question: p for p in pool}.values())
            random.Random(rl.seed).shuffle(distinct)
            eval_set = distinct[: min(rl.eval_problems, len(distinct) // 10)]
            held = {p.question for p in eval_set}
            pool = [p for p in pool if p.question not in held]
    if rl.train_problems and not only_synthetic:
        pool = pool[: rl.train_problems]
    return pool, eval_set
