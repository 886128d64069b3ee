"""`seekmath run`: the whole DeepSeekMath recipe, stage after stage, then a report.

    crawl -> corpus -> pretrain -> sft -> rl -> eval -> report

Each stage reads the previous stage's folder and writes its own under the run folder
(`runs/<name>/<stage>/`). A finished stage leaves `DONE.json` (seconds, peak memory); a rerun skips
it, and an interrupted stage resumes from its own checkpoints. `--from STAGE` discards that stage
and every later one and runs them again.

`--config findings` (run.mode = findings) runs the recipe's stages up to `sft`, then the
unified-paradigm study over that SFT checkpoint (`findings/study.py`). The flow is one way: this
module calls the study; the study reads the recipe's outputs through `stages.py` and never calls back.
"""

from __future__ import annotations

import argparse
import logging
import shutil
import threading
import time
from pathlib import Path
from typing import Any, Callable

from seekmath.cli import add_config_arguments, config_from_args
from seekmath.runs import atomic_write_json, prepare_stage_dir, set_threads
from seekmath.stages import MODEL_STAGES, PREP_STAGES, STAGES, done_marker, final_model, stage_done

log = logging.getLogger("seekmath.recipe")


class PeakMemory:
    """Samples this process's resident memory in a thread; `.peak_mb` after the block."""

    def __init__(self, interval: float = 0.2):
        self.interval, self.peak_mb = interval, 0.0
        self._stop = threading.Event()

    def _run(self) -> None:
        import psutil

        proc = psutil.Process()
        while not self._stop.is_set():
            try:
                rss = proc.memory_info().rss + sum(c.memory_info().rss for c in proc.children(recursive=True))
            except Exception:  # a child may vanish between listing and reading
                rss = proc.memory_info().rss
            self.peak_mb = max(self.peak_mb, rss / 2**20)
            self._stop.wait(self.interval)

    def __enter__(self) -> "PeakMemory":
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._stop.set()
        self._thread.join()


# ----------------------------------------------------------------------------------------------
# The stages. Each takes (cfg, run_dir) and leaves its outputs in run_dir/<stage>/.


def stage_crawl(cfg, run_dir: Path) -> dict:
    from seekmath.corpus.democrawl import make_demo_crawl

    return make_demo_crawl(run_dir / "crawl", pages=cfg.corpus.demo_pages, seed=cfg.run.seed, tasks_cfg=cfg.tasks) or {}


def stage_corpus(cfg, run_dir: Path) -> dict:
    from seekmath.corpus.pipeline import build_corpus

    labels = run_dir / "crawl" / "labels.jsonl"
    return build_corpus(
        cfg, [str(run_dir / "crawl")], run_dir / "corpus", engine=cfg.corpus.engine,
        labels=str(labels) if labels.is_file() else None,
    )


def stage_pretrain(cfg, run_dir: Path) -> dict:
    out = run_dir / "pretrain"
    # the mined corpus is the math share of the mixture (paper §2.1: 56% math corpus, the rest code/arXiv/web);
    # at toy scale the rest is generated non-math prose
    data = [f"{run_dir / 'corpus'}@{cfg.run.corpus_share}"]
    if cfg.run.corpus_share < 1.0:
        data.append(f"filler@{1.0 - cfg.run.corpus_share:.4g}")
    model = cfg.model.name_or_path or None
    n = train_processes(cfg, "pretrain")
    if n == 1:
        from seekmath.train.trainer import train_stage

        train_stage(cfg, "pretrain", out, model_path=model, data=data, resume=(out / "checkpoints").is_dir())
        return {"processes": 1}
    return _torchrun(cfg, run_dir, "pretrain", n, ["--data", ",".join(data)] + (["--model", model] if model else []))


def stage_sft(cfg, run_dir: Path) -> dict:
    out = run_dir / "sft"
    model = str(final_model(run_dir, "pretrain"))
    n = train_processes(cfg, "sft")
    if n == 1:
        from seekmath.train.trainer import train_stage

        train_stage(cfg, "sft", out, model_path=model, resume=(out / "checkpoints").is_dir())
        return {"processes": 1}
    return _torchrun(cfg, run_dir, "sft", n, ["--model", model])


def train_processes(cfg, kind: str) -> int:
    """How many processes the recipe's pretrain or SFT stage runs (`run.train_processes`; 0 = auto).

    auto, on a CPU-only machine: one process per `run.threads` cores (one per core when run.threads is
    0), fewer if needed for the global batch to split evenly (batch_size and micro_batch_size). The
    trainer's update does not depend on the number of processes (train/trainer.py); on 2 cores two
    one-thread processes ran the tiny recipe's SFT steps 1.13x and its pretraining steps 1.0x as fast as
    one two-thread process (2026-11-29; 1.25x on a 24-step pretraining probe). Otherwise 1; GPU users
    launch `torchrun ... seekmath pretrain` themselves.
    """
    tcfg = getattr(cfg, kind)
    lora = getattr(tcfg, "lora", None)  # SFT only
    micro = tcfg.micro_batch_size

    def splits(n: int) -> bool:  # the global batch, and each process's micro-batches, divide evenly
        return not tcfg.batch_size % n and not (micro and (tcfg.batch_size // n) % micro)

    one_only = lora is not None and lora.enabled and tcfg.distributed == "fsdp"
    return _cpu_processes(cfg.run.train_processes, "run.train_processes", max(1, cfg.run.threads), splits, one_only)


def rl_processes(cfg) -> int:
    """How many processes the recipe's RL stage runs (`run.rl_processes`; 0 = auto).

    auto, on a CPU-only machine with rl.threads set: as many processes as the cores hold (cores //
    rl.threads), fewer if needed for every process to get an equal share of whole generation calls, so
    the run samples exactly what one process would (rl/distributed.py). Otherwise 1;
    GPU users launch `torchrun ... seekmath rl` themselves.
    """
    from seekmath.rl.distributed import generation_unit
    from seekmath.rl.grpo import one_process_only

    rl = cfg.rl
    unit = generation_unit(rl.group_size, rl.generation_batch_size)  # groups per generation call

    def splits(n: int) -> bool:  # equal shares of whole generation calls
        return not rl.prompts_per_step % n and not (rl.prompts_per_step // n) % unit

    one_only = rl.threads <= 0 or one_process_only(rl) is not None
    return _cpu_processes(cfg.run.rl_processes, "run.rl_processes", max(1, rl.threads), splits, one_only)


def _cpu_processes(explicit: int, key: str, threads: int, splits: Callable[[int], bool], one_only: bool) -> int:
    """`explicit` when set; else, on a CPU-only machine, cores // threads processes, reduced until the
    work `splits` evenly; 1 on a GPU machine or when the stage must run on `one_only` process."""
    import os

    import torch

    if explicit < 0:
        raise ValueError(f"{key} must be >= 0 (0 = auto), got {explicit}")
    if explicit:
        return explicit
    if torch.cuda.is_available() or one_only:
        return 1
    n = max(1, (os.cpu_count() or 1) // threads)
    while n > 1 and not splits(n):
        n -= 1
    return n


def stage_rl(cfg, run_dir: Path) -> dict:
    n = rl_processes(cfg)
    if n == 1:
        from seekmath.rl.grpo import run_rl

        out = run_dir / "rl"
        run_rl(cfg, str(final_model(run_dir, "sft")), out, resume=(out / "checkpoints").is_dir())
        return {"processes": 1}
    # several CPU processes (gloo): each samples, rewards and trains on its share of the step's groups;
    # the update and the samples are those of one process (tests/rl/test_rl_distributed.py)
    return _torchrun(cfg, run_dir, "rl", n, ["--model", str(final_model(run_dir, "sft"))])


def _torchrun(cfg, run_dir: Path, stage: str, n: int, args: list[str]) -> dict:
    """Run `seekmath <stage>` as n gloo processes (torchrun --standalone) on the run's saved config."""
    import os
    import subprocess
    import sys

    out = run_dir / stage
    threads = max(1, cfg.rl.threads if stage == "rl" else cfg.run.threads or (os.cpu_count() or 1) // n)
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc-per-node={n}",
           "-m", "seekmath", stage, "--config", str(run_dir / "config.yaml"), "--out", str(out), *args,
           *(["--resume"] if (out / "checkpoints").is_dir() else [])]
    if stage != "rl":
        cmd.append(f"run.threads={threads}")  # each process's share of the cores
    log.info("%s: %d processes x %d thread(s): %s", stage, n, threads, " ".join(cmd))
    rc = subprocess.run(cmd, env={**os.environ, "OMP_NUM_THREADS": str(threads)}).returncode
    if rc:
        raise RuntimeError(f"{stage}: the {n} processes exited with {rc}; see {out / 'log.txt'}")
    return {"processes": n}


def eval_config_for(cfg, stage: str):
    """Base (pretrain-only) checkpoints get few-shot prompts, instruction-tuned ones zero-shot (paper §5.1)."""
    import dataclasses

    return dataclasses.replace(cfg.eval, prompt="fewshot" if stage == "pretrain" else "zeroshot")


EVAL_PARTS = ("main", "real")  # run.eval_benches with eval.*; real GSM8K / MATH-500, greedy on a few problems


def evaluate_part(cfg, run_dir: Path, stage: str, part: str) -> dict:
    """One part of a stage checkpoint's evaluation, into eval/<stage> (main) or eval/<stage>/real.

    A benchmark already evaluated with the same settings (by the other process, or before an
    interruption) is read back by the harness without loading the model. A real benchmark whose
    prompts do not fit the checkpoint's positions (GSM8K's few-shot prompts on the tiny model) is
    not run: its output would say nothing. The reason goes to eval/<stage>/skipped.json and the report.
    """
    import dataclasses

    from seekmath.evaluate.harness import checkpoint_overflow, evaluate_model
    from seekmath.tasks.loaders import local_benchmark_file

    out, model_dir, ecfg = run_dir / "eval" / stage, final_model(run_dir, stage), eval_config_for(cfg, stage)
    log.info("eval: the %s checkpoint %s (%s benchmarks)", stage, model_dir, part)
    if part == "main":
        result = dict(evaluate_model(str(model_dir), list(cfg.run.eval_benches), ecfg, out, tasks_cfg=cfg.tasks, model_cfg=cfg.model))
    else:  # real GSM8K / MATH-500 through the same harness when their files are present: honest numbers, near zero at this scale
        rcfg = dataclasses.replace(ecfg, limit=cfg.run.real_bench_limit, k=[1])
        real = [b for b in cfg.run.real_benches if local_benchmark_file(b) is not None and b not in cfg.run.eval_benches]
        skipped = {b: why for b in real if (why := checkpoint_overflow(model_dir, b, rcfg, cfg.tasks, cfg.model.prompt_format))}
        for bench, why in skipped.items():
            log.warning("eval: %s not run on the %s checkpoint: %s", bench, stage, why)
        atomic_write_json(out / "skipped.json", skipped)
        fitting = [b for b in real if b not in skipped]
        result = dict(evaluate_model(str(model_dir), fitting, rcfg, out / "real", tasks_cfg=cfg.tasks, model_cfg=cfg.model)) if fitting else {}
    atomic_write_json(_part_file(run_dir, stage, part), result)
    return result


def _part_file(run_dir: Path, stage: str, part: str) -> Path:
    return run_dir / "eval" / stage / f"{part}_summary.json"


def evaluate_checkpoint(cfg, run_dir: Path, stage: str) -> dict | None:
    """One stage's checkpoint on the run's benchmarks -> eval/<stage>/all_summary.json."""
    model_dir = final_model(run_dir, stage)
    if not model_dir.is_dir():
        log.warning("eval: %s has no final model, skipped", stage)
        return None
    result = {}
    for part in EVAL_PARTS:
        result.update(evaluate_part(cfg, run_dir, stage, part))
    atomic_write_json(run_dir / "eval" / stage / "all_summary.json", result)
    return result


def eval_jobs(run_dir: Path, stages: list[str]) -> list[tuple[str, str]]:
    """(stage, part) of the finished checkpoints not yet evaluated; the longest first (every stage's main
    part, the pretrain checkpoint's few-shot prompts leading) so that two processes end together."""
    return [(stage, part) for part in EVAL_PARTS for stage in stages
            if stage_done(run_dir, stage) and not _part_file(run_dir, stage, part).is_file()]


def _claim(run_dir: Path, job: tuple[str, str]) -> bool:
    """Whether this process takes `job`: the first to create its claim file does (atomic on one machine)."""
    import os

    path = run_dir / "eval" / "claims" / ".".join(job)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
    except FileExistsError:
        return False
    return True


def work_through(cfg, run_dir: Path, jobs: list[tuple[str, str]]) -> None:
    """Evaluate every job of `jobs` that no other process has claimed."""
    for job in jobs:
        if _claim(run_dir, job):
            evaluate_part(cfg, run_dir, *job)


def stage_eval(cfg, run_dir: Path) -> dict:
    # two processes when the cores hold them, sharing the (stage, part) jobs; then every stage's summary
    # is collected here (finished parts are read back; a part the other process did not finish runs here)
    shutil.rmtree(run_dir / "eval" / "claims", ignore_errors=True)  # claims of an interrupted run
    jobs = eval_jobs(run_dir, list(MODEL_STAGES))
    second = start_parallel_eval(cfg, run_dir, jobs) if parallel_eval(cfg, busy_threads=cfg.eval.threads) else None
    if second is not None:
        work_through(cfg, run_dir, jobs)
        _join(second, run_dir)
    results = {stage: evaluate_checkpoint(cfg, run_dir, stage) for stage in MODEL_STAGES}
    shutil.rmtree(run_dir / "eval" / "claims", ignore_errors=True)
    return {"stages": {stage: results[stage] for stage in MODEL_STAGES if results.get(stage) is not None}}


def _evaluate_in_background(cfg, run_dir: str, jobs: list[tuple[str, str]]) -> None:
    """The second evaluation process: its own log file, no progress bars, eval.threads threads."""
    import os

    os.environ["SEEKMATH_NO_PROGRESS"] = "1"
    log_file = Path(run_dir) / "eval" / "parallel.log"
    log_file.parent.mkdir(parents=True, exist_ok=True)
    logging.basicConfig(level=logging.INFO, filename=log_file, force=True,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    set_threads(cfg.eval.threads)
    work_through(cfg, Path(run_dir), jobs)


def parallel_eval(cfg, busy_threads: int) -> bool:
    """Whether a second evaluation process runs beside `busy_threads` threads of other work.

    `run.parallel_eval` auto: on a CPU-only machine whose cores hold both (busy + eval.threads <=
    cores). Used while RL trains (its time budget counts its own processes' CPU time, so RL takes the
    same steps) and in the eval stage. Never next to a GPU: the evaluation would compete for its memory.
    """
    import os

    import torch

    choice = cfg.run.parallel_eval
    if choice not in ("auto", "always", "never"):
        raise ValueError(f"run.parallel_eval must be auto, always or never, got {choice!r}")
    if choice != "auto":
        return choice == "always"
    return (not torch.cuda.is_available() and busy_threads > 0 and cfg.eval.threads > 0
            and busy_threads + cfg.eval.threads <= (os.cpu_count() or 1))


def start_parallel_eval(cfg, run_dir: Path, jobs: list[tuple[str, str]]):
    """Work through `jobs` (see eval_jobs) in a spawned process; None when there is nothing to do."""
    import multiprocessing

    if not jobs:
        return None
    proc = multiprocessing.get_context("spawn").Process(target=_evaluate_in_background, args=(cfg, str(run_dir), jobs),
                                                        name="seekmath-eval", daemon=True)
    proc.start()
    stages = ", ".join(dict.fromkeys(stage for stage, _ in jobs))
    log.info("eval: %s evaluated in a second process (log: %s)", stages, run_dir / "eval" / "parallel.log")
    return proc


def _join(proc, run_dir: Path) -> None:
    proc.join()
    if proc.exitcode:  # its checkpoints have no summary: the caller evaluates them itself
        log.warning("eval: the second process exited with %s (see %s)", proc.exitcode, run_dir / "eval" / "parallel.log")


STAGE_FUNCS: dict[str, Callable[[Any, Path], dict]] = {
    "crawl": stage_crawl,
    "corpus": stage_corpus,
    "pretrain": stage_pretrain,
    "sft": stage_sft,
    "rl": stage_rl,
    "eval": stage_eval,
}


def run_recipe(cfg, run_dir: str | Path, from_stage: str | None = None, only: list[str] | None = None) -> Path:
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    set_threads(cfg.run.threads)
    unknown = [s for s in cfg.run.stages if s not in STAGES]
    if unknown:
        raise ValueError(f"run.stages: unknown stage(s) {unknown}; stages are {STAGES}")
    stages = [s for s in STAGES if s in cfg.run.stages]
    if only:
        stages = [s for s in stages if s in only]
    if from_stage:
        if from_stage not in STAGES:
            raise ValueError(f"--from: unknown stage {from_stage!r}; stages are {', '.join(STAGES)}")
        for s in STAGES[STAGES.index(from_stage):]:
            if (run_dir / s).exists():
                log.info("--from %s: discarding %s", from_stage, run_dir / s)
                shutil.rmtree(run_dir / s)
    prepare_stage_dir(run_dir, cfg)
    t_all = time.time()
    eval_beside_rl = None
    for stage in stages:
        if stage_done(run_dir, stage):
            log.info("stage %s: done already, skipped", stage)
            continue
        if stage == "eval" and eval_beside_rl is not None:
            _join(eval_beside_rl, run_dir)
        log.info("stage %s: starting", stage)
        prepare_stage_dir(run_dir / stage, cfg)
        if stage == "rl" and "eval" in stages and parallel_eval(cfg, busy_threads=cfg.rl.threads * rl_processes(cfg)):
            eval_beside_rl = start_parallel_eval(cfg, run_dir, eval_jobs(run_dir, ["pretrain", "sft"]))  # on the cores RL leaves idle
        t0 = time.time()
        with PeakMemory() as mem:
            info = STAGE_FUNCS[stage](cfg, run_dir) or {}
        seconds = time.time() - t0
        log.info("stage %s: finished in %.1f s (peak RSS %.0f MB)", stage, seconds, mem.peak_mb)
        atomic_write_json(done_marker(run_dir, stage), {"stage": stage, "seconds": round(seconds, 2),
                                                        "peak_rss_mb": round(mem.peak_mb, 1), "finished": time.time(),
                                                        "info": _jsonable(info)})
    from seekmath.report import build_report

    report = build_report(run_dir)
    log.info("recipe finished in %.1f s; report: %s", time.time() - t_all, report)
    return report


def _jsonable(info: dict) -> dict:
    import json

    try:
        json.dumps(info, default=str)
        return info
    except TypeError:
        return {}


def run_findings(cfg, out: str | Path, from_stage: str | None = None) -> Path:
    """`seekmath run --config findings`: the recipe up to the SFT checkpoint, then the study over it."""
    import dataclasses

    from seekmath.findings.study import run_study

    if from_stage and from_stage not in PREP_STAGES:
        raise ValueError(f"--from: the findings study runs the stages {', '.join(PREP_STAGES)}; got {from_stage!r}")
    prep = dataclasses.replace(cfg, run=dataclasses.replace(cfg.run, stages=list(PREP_STAGES), mode="recipe"))
    run_recipe(prep, out, from_stage=from_stage)  # skips the stages already done
    if from_stage and (Path(out) / "findings").exists():  # its runs started from the discarded checkpoint
        log.info("--from %s: discarding %s", from_stage, Path(out) / "findings")
        shutil.rmtree(Path(out) / "findings")
    return run_study(cfg, out)


def main(command: str, argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="seekmath run", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default=None, help="run folder (default: runs/<run.name>)")
    parser.add_argument("--from", dest="from_stage", default=None, choices=STAGES,
                        help="discard this stage and the later ones, and run them again")
    parser.add_argument("--only", default=None, help="comma-separated stages to run (others must be done)")
    add_config_arguments(parser)
    args = parser.parse_args(argv)
    cfg = config_from_args(args)
    out = Path(args.out or f"runs/{cfg.run.name}")
    if cfg.run.mode == "findings":
        print(run_findings(cfg, out, from_stage=args.from_stage))
        return 0
    print(run_recipe(cfg, out, from_stage=args.from_stage, only=args.only.split(",") if args.only else None))
    return 0
