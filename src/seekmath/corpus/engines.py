"""Executors: run one step function over many shards, locally (multiprocessing) or on Ray.

A step is a module-level function `fn(task: dict) -> dict` that reads its shard, writes its outputs
atomically and returns a small JSON-able summary. The engine only schedules: it is what differs
between `--engine local` and `--engine ray`, never the step, so both give the same bytes.

Resumption (datatrove's design): after a task finishes, its summary is written atomically to
`done_dir/<task name>.json`. A relaunch skips every task with a marker and reuses its summary, so a
finished shard is never redone after a crash; an unfinished one left no output file (atomic writes).

For tests, `SEEKMATH_CORPUS_KILL_AFTER=STEP:N` kills the process (os._exit, no cleanup, like a
SIGKILL) right after the N-th newly finished task of step STEP.
"""

from __future__ import annotations

import json
import logging
import multiprocessing as mp
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable

from tqdm.auto import tqdm

from seekmath.runs import atomic_write_json

log = logging.getLogger("seekmath.corpus")

ENGINES = ("local", "ray")


def _maybe_kill(step: str, finished: int) -> None:
    spec = os.environ.get("SEEKMATH_CORPUS_KILL_AFTER", "")
    if spec:
        name, _, n = spec.partition(":")
        if name == step and finished >= int(n or 1):
            sys.stderr.write(f"SEEKMATH_CORPUS_KILL_AFTER: killing the run after {finished} task(s) of {step}\n")
            sys.stderr.flush()
            os._exit(137)


class Engine:
    """Schedules step functions over shards. Use as a context manager (Ray is shut down on exit)."""

    def __init__(self, kind: str = "local", workers: int = 2, *, ray_address: str = "", ray_temp_dir: str = "",
                 progress: bool = True):
        if kind not in ENGINES:
            raise ValueError(f"unknown engine {kind!r} (use one of: {', '.join(ENGINES)})")
        self.kind = kind
        self.workers = max(1, int(workers))
        self.ray_address = ray_address
        self.ray_temp_dir = ray_temp_dir
        self.progress = progress
        self._ray_started = False
        self._ray_tmp = ""
        self._pool = None
        self.busy_seconds = 0.0  # wall time spent inside run() (for documents/s per core)
        self.last_pending = 0  # tasks the last run() had to do (0: everything was resumed from done markers)

    # --- lifecycle ---
    def __enter__(self) -> "Engine":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        if self._pool is not None:
            self._pool.close()
            self._pool.join()
            self._pool = None
        if self._ray_started:
            import ray

            ray.shutdown()
            self._ray_started = False
            if self._ray_tmp:
                import shutil

                shutil.rmtree(self._ray_tmp, ignore_errors=True)

    def _ensure_ray(self):
        import ray

        if not ray.is_initialized():
            os.environ.setdefault("RAY_AUTH_MODE", "disabled")
            if self.ray_address:
                ray.init(address=self.ray_address, include_dashboard=False, log_to_driver=False)
            else:
                temp = self.ray_temp_dir or tempfile.mkdtemp(prefix="smray-", dir="/tmp")
                self._ray_tmp = "" if self.ray_temp_dir else temp
                ray.init(num_cpus=self.workers, include_dashboard=False, _temp_dir=temp, log_to_driver=False)
            self._ray_started = True
        return ray

    def _ensure_pool(self):
        if self._pool is None:
            ctx = mp.get_context("fork" if sys.platform.startswith("linux") else "spawn")
            self._pool = ctx.Pool(self.workers)
        return self._pool

    # --- scheduling ---
    def run(self, step: str, fn: Callable[[dict], dict], tasks: list[dict], done_dir: str | Path) -> list[dict]:
        """Run `fn` on every task without a done marker; return all summaries in task order."""
        done_dir = Path(done_dir)
        done_dir.mkdir(parents=True, exist_ok=True)
        names = [t["name"] for t in tasks]
        if len(set(names)) != len(names):
            raise ValueError(f"step {step}: task names must be unique")
        results: dict[str, dict] = {}
        pending = []
        for t in tasks:
            marker = done_dir / f"{t['name']}.json"
            if marker.is_file():
                results[t["name"]] = json.loads(marker.read_text(encoding="utf-8"))
            else:
                pending.append(t)
        self.last_pending = len(pending)
        t0 = time.perf_counter()
        bar = tqdm(total=len(tasks), initial=len(tasks) - len(pending), desc=step, unit="shard",
                   disable=not self.progress, leave=False)
        finished = 0

        def finish(task: dict, res: dict) -> None:
            nonlocal finished
            atomic_write_json(done_dir / f"{task['name']}.json", res)
            results[task["name"]] = res
            finished += 1
            bar.update(1)
            _maybe_kill(step, finished)

        try:
            if not pending:
                pass
            elif self.kind == "local" and (self.workers == 1 or len(pending) == 1):
                for t in pending:
                    finish(t, fn(t))
            elif self.kind == "local":
                pool = self._ensure_pool()
                by_name = {t["name"]: t for t in pending}
                for name, res in pool.imap_unordered(_call_named, [(fn, t) for t in pending]):
                    finish(by_name[name], res)
            else:
                ray = self._ensure_ray()
                remote = ray.remote(num_cpus=1)(_call_named)
                refs = {remote.remote((fn, t)): t for t in pending}
                waiting = list(refs)
                while waiting:
                    ready, waiting = ray.wait(waiting, num_returns=1)
                    for r in ready:
                        _, res = ray.get(r)
                        finish(refs[r], res)
        finally:
            bar.close()
        self.busy_seconds += time.perf_counter() - t0
        return [results[n] for n in names]


def _call_named(arg: tuple[Callable[[dict], dict], dict]) -> tuple[str, dict]:
    fn, task = arg
    return task["name"], fn(task)
