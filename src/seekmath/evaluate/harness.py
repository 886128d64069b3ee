"""The benchmark harness: prompts -> generation engine -> (sandbox) -> grader -> metrics -> files.

    summary = evaluate_model("runs/tiny/rl/final", ["synthetic", "gsm8k"], cfg.eval, "runs/tiny/eval",
                             tasks_cfg=cfg.tasks)

Per benchmark: one greedy pass (temperature 0; the paper's "Top1" numbers, spec §5.1) and max(k)
samples per problem at `cfg.temperature` / `cfg.top_p` for maj@k and pass@k (metrics.py). Every sample is
graded by `seekmath.evaluate.grade` ("unverifiable" counts as not correct, and is counted).

Files (written atomically): `out_dir/samples.jsonl` (one line per sample: bench, id, sample index —
-1 for the greedy answer — prompt, response, pred, verdict, reason, finish_reason, gold) and
`out_dir/summary.json` ({bench: {"n", "greedy", "maj@k", "pass@k", "k", "ci95", "maj", "pass", ...}}).
A finished benchmark is kept in `out_dir/benches/<bench>.json(l)`, so an interrupted run resumes where it
stopped (a benchmark is redone only when its settings changed).
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from dataclasses import asdict
from pathlib import Path

from seekmath.evaluate.metrics import (
    accuracy,
    maj_at_k_correct,
    mean_interval,
    pass_at_k,
    wilson_interval,
)
from seekmath.evaluate.prompts import PROMPT_KINDS, Prompt, build_prompt, pot_program, tool_integrated_generate
from seekmath.evaluate.settings import EvalConfig
from seekmath.runs import atomic_write_json, atomic_write_jsonl, read_jsonl

log = logging.getLogger("seekmath.evaluate")


def _check(cfg: EvalConfig) -> None:
    if cfg.prompt not in PROMPT_KINDS:
        raise ValueError(f"eval.prompt: unknown prompt kind {cfg.prompt!r}; expected one of {', '.join(PROMPT_KINDS)}")
    if any(k < 1 for k in cfg.k):
        raise ValueError(f"eval.k: every k must be >= 1, got {cfg.k}")
    if cfg.vote not in ("equivalent", "string"):
        raise ValueError(f"eval.vote: expected 'equivalent' or 'string', got {cfg.vote!r}")
    if not cfg.greedy and not cfg.k:
        raise ValueError("eval: nothing to do (eval.greedy is false and eval.k is empty)")


def load_bench(bench: str, cfg: EvalConfig, tasks_cfg=None):
    from seekmath.tasks.loaders import load_problems

    return load_problems(bench, limit=cfg.limit or None, tasks_cfg=tasks_cfg, split="test")


def build_prompts(bench: str, problems, cfg: EvalConfig, tasks_cfg=None, tokenizer=None, fmt: str = "auto") -> list[Prompt]:
    shots = None
    if bench == "synthetic" and cfg.prompt == "fewshot":
        from seekmath.config import TasksConfig
        from seekmath.tasks.synthetic import generate_problems

        # exemplars from the TRAIN split (disjoint from the held-out test split by construction)
        shots = generate_problems(tasks_cfg or TasksConfig(), "train", cfg.num_shots, seed=cfg.seed + 12345)
    return [build_prompt(cfg.prompt, bench, p, synthetic_shots=shots, tokenizer=tokenizer, fmt=fmt) for p in problems]


def _generate(engine, prompts: list[Prompt], cfg: EvalConfig, *, n: int, temperature: float, seed: int) -> list[list[dict]]:
    """[problem][sample] -> {"response", "graded_response", "finish_reason"} for one decoding setting."""
    texts = [p.text for p in prompts]
    top_p = cfg.top_p if temperature > 0 else 1.0
    if cfg.prompt == "tool":
        states = tool_integrated_generate(engine, texts, n=n, temperature=temperature, top_p=top_p,
                                          max_new_tokens=cfg.max_new_tokens, seed=seed, max_rounds=cfg.tool_rounds,
                                          timeout=cfg.exec_timeout)
        return [[{**s, "graded_response": s["response"]} for s in row] for row in states]
    # all prompts of one kind share their stop strings
    outs = engine.generate(texts, n=n, temperature=temperature, top_p=top_p, max_new_tokens=cfg.max_new_tokens,
                           stop=prompts[0].stop if prompts else None, seed=seed)
    rows = [[{"response": c.text.rstrip(), "finish_reason": c.finish_reason, "new_tokens": len(c.token_ids)} for c in row]
            for row in outs]
    if cfg.prompt == "pot":
        from seekmath.evaluate.sandbox import run_many

        flat = [(i, j) for i, row in enumerate(rows) for j in range(len(row))]
        programs = [pot_program(rows[i][j]["response"], prompts[i].exec_mode or "solution") for i, j in flat]
        modes = {p.exec_mode for p in prompts}
        mode = modes.pop() if len(modes) == 1 else "solution"
        results = run_many(programs, workers=2, mode=mode, timeout=cfg.exec_timeout)
        for (i, j), res in zip(flat, results):
            rows[i][j]["exec_status"] = res.status
            rows[i][j]["graded_response"] = res.result if res.ok and res.result is not None else ""
            if not res.ok:
                rows[i][j]["exec_error"] = res.error
    else:
        for row in rows:
            for s in row:
                s["graded_response"] = s["response"]
    return rows


def _grade(rows: list[list[dict]], problems, bench: str, cfg: EvalConfig) -> None:
    from seekmath.evaluate.extract import last_number_protocol
    from seekmath.evaluate.grade import grade_batch

    flat = [s for row in rows for s in row]
    items = [{"response": s["graded_response"], "gold": p.answer, "bench": bench, "question": p.question}
             for row, p in zip(rows, problems) for s in row]
    # the last-number fallback only where this benchmark's protocol under this prompt defines it
    verdicts = grade_batch(items, mode=cfg.mode, timeout=cfg.grade_timeout,
                           last_number_fallback=last_number_protocol(bench, cfg.prompt))
    for s, v in zip(flat, verdicts):
        s["pred"], s["verdict"], s["reason"] = v.pred, v.verdict, v.reason


def bench_metrics(greedy_correct: list[bool] | None, sample_preds: list[list[str | None]] | None,
                  sample_correct: list[list[bool]] | None, ks: list[int], *, equal=None) -> dict:
    """The summary entry of one benchmark from per-problem verdicts (pure; see metrics.py).

    greedy: top-1 accuracy with a Wilson 95% interval; maj@k / pass@k for every k in `ks` with
    k <= samples; "maj@k"/"pass@k" are the values at the largest such k (with intervals: Wilson for
    maj@k, normal-of-the-mean for pass@k)."""
    out: dict = {}
    n = len(greedy_correct) if greedy_correct is not None else len(sample_correct or [])
    out["n"] = n
    if greedy_correct is not None:
        out["greedy"] = accuracy(greedy_correct)
        out["ci95"] = list(wilson_interval(sum(greedy_correct), len(greedy_correct)))
    if sample_correct:
        n_samples = min(len(c) for c in sample_correct)
        usable = sorted(k for k in set(ks) if k <= n_samples)
        out["samples"] = n_samples
        out["maj"], out["pass"] = {}, {}
        for k in usable:
            maj = [maj_at_k_correct(p[:n_samples], c[:n_samples], k, equal=equal) for p, c in zip(sample_preds, sample_correct)]
            out["maj"][k] = accuracy(maj)
            per_problem = [pass_at_k(n_samples, sum(c[:n_samples]), k) for c in sample_correct]
            out["pass"][k] = sum(per_problem) / len(per_problem)
            if k == usable[-1]:
                out["k"] = k
                out["maj@k"] = out["maj"][k]
                out["pass@k"] = out["pass"][k]
                out["ci95_maj"] = list(wilson_interval(sum(maj), len(maj)))
                out["ci95_pass"] = list(mean_interval(per_problem))
        if "greedy" not in out and 1 in out["pass"]:  # no greedy pass: report mean sample accuracy as top-1
            out["ci95"] = list(wilson_interval(round(out["pass"][1] * n), n))
    return out


def overflow(tokenizer, limit: int | None, prompts: list[Prompt], max_new_tokens: int, sample: int | None = None) -> str | None:
    """Why prompts + answers do not fit a model's `limit` trained positions (None: they fit, or unknown)."""
    if not limit or tokenizer is None or not prompts:
        return None
    longest = max(len(ids) for ids in tokenizer([p.text for p in prompts[:sample]])["input_ids"])
    if longest + max_new_tokens <= limit:
        return None
    return f"prompts of up to {longest} tokens + {max_new_tokens} new tokens exceed the model's {limit} positions"


def checkpoint_overflow(model_dir, bench: str, cfg: EvalConfig, tasks_cfg=None, fmt: str = "auto") -> str | None:
    """`overflow` for a saved checkpoint, from its tokenizer and config alone (no weights loaded)."""
    from transformers import AutoConfig

    from seekmath.models import load_tokenizer

    tok = load_tokenizer(model_dir)
    limit = getattr(AutoConfig.from_pretrained(model_dir), "max_position_embeddings", None)
    return overflow(tok, limit, build_prompts(bench, load_bench(bench, cfg, tasks_cfg), cfg, tasks_cfg, tok, fmt), cfg.max_new_tokens)


def _warn_if_too_long(engine, bench: str, prompts: list[Prompt], cfg: EvalConfig) -> None:
    """Prompts + answers longer than the model's trained positions still run (RoPE) but degrade: say so."""
    model = getattr(engine, "model", None)
    limit = getattr(getattr(model, "config", None), "max_position_embeddings", None)
    why = overflow(getattr(engine, "tokenizer", None), limit, prompts, cfg.max_new_tokens, sample=64)
    if why:
        log.warning("eval %s: %s (lower eval.max_new_tokens / eval.num_shots, or use another prompt kind)", bench, why)


def _settings_key(bench: str, cfg: EvalConfig, model_id: str) -> str:
    d = {k: v for k, v in asdict(cfg).items() if k not in ("benches", "batch_size", "threads", "engine")}
    return hashlib.sha256(json.dumps([bench, d, model_id], sort_keys=True, default=str).encode()).hexdigest()[:16]


def evaluate_bench(engine, bench: str, cfg: EvalConfig, *, tasks_cfg=None, equal=None, problems=None,
                   prompt_format: str = "auto") -> tuple[dict, list[dict]]:
    """Generate, grade and score one benchmark; (summary entry, sample records). Zero-shot and tool
    prompts are rendered with the engine's tokenizer in `prompt_format` (models.render_prompt)."""
    started = time.monotonic()
    problems = load_bench(bench, cfg, tasks_cfg) if problems is None else problems
    if not problems:
        raise ValueError(f"benchmark {bench!r} has no problems")
    prompts = build_prompts(bench, problems, cfg, tasks_cfg, getattr(engine, "tokenizer", None), prompt_format)
    _warn_if_too_long(engine, bench, prompts, cfg)
    gen_started, gen_cpu_started = time.monotonic(), time.process_time()
    greedy_rows = _generate(engine, prompts, cfg, n=1, temperature=0.0, seed=cfg.seed) if cfg.greedy else None
    n_samples = max(cfg.k) if cfg.k else 0
    sample_rows = (_generate(engine, prompts, cfg, n=n_samples, temperature=cfg.temperature, seed=cfg.seed + 1)
                   if n_samples else None)
    gen_seconds, gen_cpu_seconds = time.monotonic() - gen_started, time.process_time() - gen_cpu_started
    if greedy_rows is not None:
        _grade(greedy_rows, problems, bench, cfg)
    if sample_rows is not None:
        _grade(sample_rows, problems, bench, cfg)
    records = []
    for i, p in enumerate(problems):
        rows = ([(-1, greedy_rows[i][0])] if greedy_rows else []) + (list(enumerate(sample_rows[i])) if sample_rows else [])
        for idx, s in rows:
            rec = {"bench": bench, "id": p.id, "sample": idx, "prompt": prompts[i].text, "response": s["response"],
                   "pred": s.get("pred"), "verdict": s.get("verdict"), "reason": s.get("reason"),
                   "finish_reason": s.get("finish_reason"), "gold": p.answer}
            for extra in ("exec_status", "exec_error", "rounds", "executions"):
                if extra in s:
                    rec[extra] = s[extra]
            records.append(rec)
    greedy_correct = [r[0]["verdict"] == "correct" for r in greedy_rows] if greedy_rows else None
    sample_preds = [[s.get("pred") for s in row] for row in sample_rows] if sample_rows else None
    sample_correct = [[s["verdict"] == "correct" for s in row] for row in sample_rows] if sample_rows else None
    entry = bench_metrics(greedy_correct, sample_preds, sample_correct, list(cfg.k), equal=equal)
    entry["unverifiable"] = sum(r["verdict"] == "unverifiable" for r in records)
    entry["prompt"] = cfg.prompt
    entry["prompt_format"] = prompt_format
    entry["seconds"] = round(time.monotonic() - started, 2)
    entry["generate_seconds"] = round(gen_seconds, 2)
    # generation speed (wall clock; greedy samples repeated for n > 1 are counted once)
    new_tokens = sum(s.get("new_tokens", 0) for rows in (greedy_rows or [], sample_rows or []) for row in rows for s in row)
    entry["new_tokens"] = new_tokens
    entry["tokens_per_s"] = round(new_tokens / gen_seconds, 1) if gen_seconds > 0 else None
    # per CPU-second of this process (all its threads): comparable across runs on a shared machine
    entry["generate_cpu_seconds"] = round(gen_cpu_seconds, 2)
    entry["tokens_per_cpu_s"] = round(new_tokens / gen_cpu_seconds, 1) if gen_cpu_seconds > 0 else None
    return entry, records


def evaluate_model(model_path, benches: list[str], cfg: EvalConfig, out_dir, *, tasks_cfg=None, model=None,
                   tokenizer=None, model_cfg=None) -> dict:
    """Evaluate one checkpoint on `benches`; writes samples.jsonl and summary.json to `out_dir` (contract)."""
    _check(cfg)
    out = Path(out_dir)
    (out / "benches").mkdir(parents=True, exist_ok=True)
    import torch

    threads_before = torch.get_num_threads()
    if cfg.threads:  # restored afterwards: a recipe may go on training with its own setting
        torch.set_num_threads(cfg.threads)
    try:
        return _evaluate(model_path, benches, cfg, out, tasks_cfg, model, tokenizer, model_cfg)
    finally:
        torch.set_num_threads(threads_before)


def _evaluate(model_path, benches, cfg, out, tasks_cfg, model, tokenizer, model_cfg) -> dict:
    from tqdm.auto import tqdm

    from seekmath.generate import make_engine

    engine = None
    equal = None
    if cfg.vote == "equivalent":
        from seekmath.evaluate.grade import answers_equal

        def equal(a: str, b: str) -> bool:  # noqa: E306 - maj@k buckets by the grader's equivalence
            return answers_equal(a, b, mode=cfg.mode, timeout=cfg.grade_timeout)

    fmt = getattr(model_cfg, "prompt_format", "auto")
    model_id = (str(model_path) if model_path is not None else f"module-{id(model)}") + f"|{fmt}"
    # every benchmark's problems before the model: a wrong name or a missing file fails in a second
    problem_sets = {bench: load_bench(bench, cfg, tasks_cfg) for bench in benches}
    summary: dict = {}
    all_records: list[dict] = []
    for bench in tqdm(list(benches), desc="eval", unit="bench", disable=len(benches) < 2):
        key = _settings_key(bench, cfg, model_id)
        done_summary, done_samples = out / "benches" / f"{bench}.json", out / "benches" / f"{bench}.jsonl"
        if done_summary.is_file() and done_samples.is_file():
            saved = json.loads(done_summary.read_text())
            if saved.get("settings_key") == key:
                log.info("eval %s: reusing finished results in %s", bench, done_summary)
                entry = saved["summary"]
                for name in ("maj", "pass"):  # JSON turned the k keys into strings
                    if name in entry:
                        entry[name] = {int(k): v for k, v in entry[name].items()}
                summary[bench] = entry
                all_records += read_jsonl(done_samples)
                continue
        if engine is None:
            engine = _make_engine(make_engine, model_path, model, tokenizer, cfg, model_cfg)
        entry, records = evaluate_bench(engine, bench, cfg, tasks_cfg=tasks_cfg, equal=equal, problems=problem_sets[bench],
                                        prompt_format=fmt)
        atomic_write_jsonl(done_samples, records)
        atomic_write_json(done_summary, {"settings_key": key, "summary": entry})
        summary[bench] = entry
        all_records += records
        log.info("eval %s: n=%d greedy=%s maj@%s=%s pass@%s=%s (%.1fs)", bench, entry["n"], _fmt(entry.get("greedy")),
                 entry.get("k"), _fmt(entry.get("maj@k")), entry.get("k"), _fmt(entry.get("pass@k")), entry["seconds"])
    atomic_write_jsonl(out / "samples.jsonl", all_records)
    atomic_write_json(out / "summary.json", summary)
    return summary


def _fmt(x) -> str:
    return "-" if x is None else f"{x:.3f}"


def _make_engine(make_engine, model_path, model, tokenizer, cfg: EvalConfig, model_cfg=None):
    if cfg.engine == "vllm":
        if model_path is None:
            raise ValueError("engine 'vllm' needs a model path (it loads the checkpoint itself)")
        from seekmath.models import load_tokenizer

        # the model's own dtype (vLLM's "auto" picks bf16 on CPU) and our tokenizer (prompts render as with hf)
        return make_engine("vllm", str(model_path), tokenizer or load_tokenizer(model_path), batch_size=cfg.batch_size,
                           dtype=getattr(model_cfg, "dtype", "float32"))
    from seekmath.models import load_model, load_tokenizer

    if model is None:
        if model_path is None:
            raise ValueError("evaluate_model: give a model path or a loaded model")
        dtype = getattr(model_cfg, "dtype", "float32")
        device = getattr(model_cfg, "device", "auto")
        model = load_model(model_path, dtype=dtype, device=device)
    if tokenizer is None:
        if model_path is None:
            raise ValueError("evaluate_model: a loaded model needs its tokenizer")
        tokenizer = load_tokenizer(model_path)
    model.eval()
    return make_engine("hf", model, tokenizer, batch_size=cfg.batch_size, show_progress=True)
