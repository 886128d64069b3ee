"""A pool of grading worker processes with a hard per-item deadline.

Why not math-verify's own timeout: it uses `signal.alarm`, which only works in the main thread of the
main interpreter (Math-Verify#50, #55), and a pool that merely *abandons* a hung future leaves the
sympy work running forever (AReaL#1426). Here each heavy comparison is sent to a long-lived worker
process over a pipe; if the answer does not come back before the deadline, the worker is killed
(SIGKILL, so runaway sympy really stops) and a fresh one is started in the background.

Workers are plain `python -m seekmath.evaluate.grade_worker` subprocesses talking JSON lines, not
`multiprocessing` children: this works from any thread, from daemonic processes (torch DataLoader
workers, multiprocessing pools), from Ray actors, and from scripts without an `if __name__ ==
"__main__"` guard. A worker exits on its own when its parent dies (its stdin reaches EOF).

Waiting for a worker to become ready counts against the item's deadline (`run(request, timeout)`
bounds the whole wait). Workers are warmed for the grading modes the pool has been asked for (`modes`:
strict = math-verify, deepseek = sympy's ANTLR LaTeX parser); a worker started before a mode was
first asked for is replaced. While no warm worker exists, `grade.py` grades in the calling (main)
thread instead, so a cold start never costs an item its verdict.
"""

from __future__ import annotations

import atexit
import json
import os
import select
import subprocess
import sys
import threading
import time
from pathlib import Path

_SRC_DIR = str(Path(__file__).resolve().parents[2])  # the folder holding the `seekmath` package


class _Worker:
    def __init__(self, modes: frozenset = frozenset({"strict"})) -> None:
        self.modes = modes
        env = dict(os.environ)
        env["PYTHONPATH"] = _SRC_DIR + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
        env["SEEKMATH_GRADE_MODES"] = ",".join(sorted(modes))
        env.setdefault("OMP_NUM_THREADS", "1")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "seekmath.evaluate.grade_worker"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env,
            close_fds=True,
        )
        self._buf = b""
        self.ready = False

    def _read_line(self, deadline: float) -> bytes | None:
        fd = self.proc.stdout.fileno()
        while b"\n" not in self._buf:
            left = max(0.0, deadline - time.monotonic())
            r, _, _ = select.select([fd], [], [], left)
            if not r:
                return None
            chunk = os.read(fd, 1 << 16)
            if not chunk:  # worker died
                raise EOFError("grading worker exited")
            self._buf += chunk
        line, self._buf = self._buf.split(b"\n", 1)
        return line

    def wait_ready(self, timeout: float) -> bool:
        if not self.ready:
            line = self._read_line(time.monotonic() + timeout)
            self.ready = line is not None and json.loads(line).get("ready", False)
        return self.ready

    def ask(self, request: dict, timeout: float) -> dict | None:
        """Send one request; the reply, or None when the deadline passed (the caller kills us)."""
        # the worker interrupts itself a little earlier (SIGALRM, stays warm); we kill it at the deadline
        # (a caller may pass "soft_timeout": 0 to switch the soft limit off, e.g. to test the hard kill)
        request = {"soft_timeout": max(0.005, timeout - min(0.1, 0.2 * timeout)), **request}
        self.proc.stdin.write(json.dumps(request).encode() + b"\n")
        self.proc.stdin.flush()
        line = self._read_line(time.monotonic() + timeout)
        return None if line is None else json.loads(line)

    def kill(self) -> None:
        """SIGKILL now; reap (wait + close pipes) in a background thread so the caller is not delayed."""
        try:
            self.proc.kill()
        except Exception:
            pass
        threading.Thread(target=self._reap, daemon=True).start()

    def _reap(self) -> None:
        try:
            self.proc.wait(timeout=10)
        except Exception:
            pass
        for f in (self.proc.stdin, self.proc.stdout):
            try:
                f.close()
            except Exception:
                pass


class WorkerPool:
    """`size` worker processes shared by any number of threads. `run(request, timeout)` is thread-safe."""

    def __init__(self, size: int = 2, ready_timeout: float = 60.0, modes=("strict",)) -> None:
        self.size = max(1, int(size))
        self.ready_timeout = ready_timeout
        self.modes = frozenset(modes)
        self._idle: list[_Worker] = []
        self._all: list[_Worker] = []
        self._cond = threading.Condition()
        self._closed = False
        self.owner_pid = os.getpid()  # a forked child must not share these pipes (see shared_pool)
        for _ in range(self.size):
            self._spawn()

    def _spawn(self) -> None:
        w = _Worker(self.modes)
        with self._cond:
            self._all.append(w)
            self._idle.append(w)
            self._cond.notify()

    def _checkout(self, timeout: float | None = None) -> _Worker:
        deadline = time.monotonic() + (self.ready_timeout if timeout is None else timeout)
        with self._cond:
            if self._closed:
                raise RuntimeError("worker pool is closed")
            while not self._idle:
                if not self._cond.wait(timeout=max(0.0, deadline - time.monotonic())):
                    raise TimeoutError("no grading worker became free")
            for k in range(len(self._idle) - 1, -1, -1):  # prefer a warm worker over a fresh one
                try:
                    if self._idle[k].wait_ready(0.0):
                        return self._idle.pop(k)
                except (EOFError, OSError, ValueError):
                    pass
            return self._idle.pop()

    def _checkin(self, w: _Worker) -> None:
        if not self.modes <= w.modes:  # started before a mode was added: replace it
            self._discard(w)
            return
        with self._cond:
            self._idle.append(w)
            self._cond.notify()

    def add_mode(self, mode: str) -> None:
        """Warm new workers for `mode` too; idle workers that are not warmed for it are replaced now."""
        with self._cond:
            if mode in self.modes:
                return
            self.modes = self.modes | {mode}
            stale = [w for w in self._idle if not self.modes <= w.modes]
        for w in stale:
            with self._cond:
                if w not in self._idle:
                    continue
                self._idle.remove(w)
            self._discard(w)

    def has_ready(self, mode: str) -> bool:
        """Is an idle worker warmed for `mode` ready right now (without waiting)?"""
        with self._cond:
            idle = [w for w in self._idle if mode in w.modes]
        for w in idle:
            try:
                if w.wait_ready(0.0):
                    return True
            except (EOFError, OSError, ValueError):
                pass
        return False

    def _discard(self, w: _Worker) -> None:
        w.kill()
        with self._cond:
            if w in self._all:
                self._all.remove(w)
            closed = self._closed
        if not closed:
            self._spawn()  # Popen returns at once; the new worker imports in the background

    def run(self, request: dict, timeout: float) -> dict:
        """The worker's reply, or `{"verdict": "unverifiable", "reason": "timeout ..."}` past the deadline
        (`timeout` covers waiting for a free worker and for its start-up as well as the check itself)."""
        deadline = time.monotonic() + timeout
        self.add_mode(request.get("mode", "strict"))
        try:
            w = self._checkout(timeout)
        except TimeoutError:
            return {"verdict": "unverifiable", "reason": f"timeout after {timeout:g}s (no grading worker free)"}
        try:
            if not w.wait_ready(max(0.0, deadline - time.monotonic())):
                self._checkin(w)  # still starting: it stays in the pool for the next item
                return {"verdict": "unverifiable", "reason": f"timeout after {timeout:g}s (grading worker starting)"}
            reply = w.ask(request, max(0.005, deadline - time.monotonic()))
        except (EOFError, OSError, ValueError) as e:
            self._discard(w)
            return {"verdict": "unverifiable", "reason": f"grading worker crashed ({type(e).__name__})"}
        if reply is None:
            self._discard(w)
            return {"verdict": "unverifiable", "reason": f"timeout after {timeout:g}s"}
        self._checkin(w)
        return reply

    def wait_all_ready(self, timeout: float = 60.0) -> bool:
        """Block until every idle worker has finished starting (used by tests and benchmarks)."""
        deadline = time.monotonic() + timeout
        with self._cond:
            workers = list(self._idle)
        return all(w.wait_ready(max(0.0, deadline - time.monotonic())) for w in workers)

    def close(self) -> None:
        if self.owner_pid != os.getpid():
            return
        with self._cond:
            self._closed = True
            workers, self._all, self._idle = list(self._all), [], []
        for w in workers:
            w.kill()


_POOL: WorkerPool | None = None
_POOL_LOCK = threading.Lock()
_WANTED_SIZE = 2


def reserve_pool_size(size: int) -> None:
    """Ask for at least `size` workers, without starting any now: workers start on the first item that
    needs sympy (integer-answer workloads such as GSM8K or the synthetic task never start one)."""
    global _WANTED_SIZE
    with _POOL_LOCK:
        _WANTED_SIZE = max(_WANTED_SIZE, int(size))
        pool = _POOL if _POOL is not None and not _POOL._closed and _POOL.owner_pid == os.getpid() else None
    if pool is not None:
        shared_pool(size)


def started_pool() -> WorkerPool | None:
    """The process-wide pool if it has been started (in this process), else None; starts nothing."""
    with _POOL_LOCK:
        if _POOL is None or _POOL._closed or _POOL.owner_pid != os.getpid():
            return None
        return _POOL


def shared_pool(min_size: int = 0, mode: str = "strict") -> WorkerPool:
    """The process-wide pool (created on first use, grown to `min_size`, warmed for `mode`, closed at exit)."""
    global _POOL
    with _POOL_LOCK:
        min_size = max(min_size, _WANTED_SIZE)
        if _POOL is None or _POOL._closed or _POOL.owner_pid != os.getpid():
            # (after a fork the inherited pool belongs to the parent: start our own, leave theirs alone)
            _POOL = WorkerPool(min_size, modes=(mode,))
            atexit.register(_POOL.close)
            return _POOL
        else:
            while _POOL.size < min_size:
                _POOL.size += 1
                _POOL._spawn()
        pool = _POOL
    pool.add_mode(mode)
    return pool


def close_shared_pool() -> None:
    global _POOL
    with _POOL_LOCK:
        if _POOL is not None:
            _POOL.close()
            _POOL = None
