"""Entry point of one grading worker process (see `grade_workers.py`): JSON lines in, JSON lines out.

Request:  {"mode": "strict"|"deepseek", "pred": str, "gold": str}
Reply:    {"verdict": "correct"|"incorrect"|"unverifiable", "reason": str}
The first line written is {"ready": true}, once the heavy imports are done and warmed for the modes
in $SEEKMATH_GRADE_MODES (strict: math-verify; deepseek: sympy's ANTLR LaTeX parser).
"""

from __future__ import annotations

import json
import os
import signal
import sys


class _SoftTimeout(BaseException):  # not Exception: library `except Exception` must not swallow it
    pass


def _on_alarm(signum, frame):
    raise _SoftTimeout


def _limit_memory(bytes_: int = 3 << 30) -> None:
    """A memory ceiling so a huge factorial or power tower fails with MemoryError instead of swapping."""
    try:
        import resource

        soft, hard = resource.getrlimit(resource.RLIMIT_AS)
        limit = bytes_ if hard == resource.RLIM_INFINITY else min(bytes_, hard)
        resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    except Exception:
        pass


def main() -> int:
    # The protocol owns the real stdout; anything a library prints goes to stderr (DEVNULL).
    proto = os.fdopen(os.dup(sys.stdout.fileno()), "wb", buffering=0)
    sys.stdout = sys.stderr
    _limit_memory()
    sys.set_int_max_str_digits(100_000)
    from seekmath.evaluate import deepseek_compat, equivalence

    modes = set(os.environ.get("SEEKMATH_GRADE_MODES", "strict").split(","))
    if "strict" in modes:
        equivalence.warm_up()
    if "deepseek" in modes:
        deepseek_compat.warm_up()
    proto.write(b'{"ready": true}\n')
    # Soft deadline inside the worker (we are its main thread, so SIGALRM works here): it interrupts
    # Python-level sympy work and keeps this warm worker alive. Work stuck inside one C call (a giant
    # integer power) ignores it; the parent's hard deadline then kills the whole process.
    signal.signal(signal.SIGALRM, _on_alarm)
    for line in sys.stdin.buffer:
        try:
            req = json.loads(line)
            soft = float(req.get("soft_timeout") or 0)
            if soft > 0:
                signal.setitimer(signal.ITIMER_REAL, soft)
            if req.get("mode") == "deepseek":
                verdict, reason = deepseek_compat.heavy_equal(req["pred"], req["gold"], req.get("bench"))
            else:
                verdict, reason = equivalence.heavy_equal(req["pred"], req["gold"])
            reply = {"verdict": verdict, "reason": reason}
        except _SoftTimeout:
            reply = {"verdict": "unverifiable", "reason": f"timeout after {soft:g}s"}
        except MemoryError:
            reply = {"verdict": "unverifiable", "reason": "out of memory"}
        except BaseException as e:  # noqa: BLE001 — any failure of the checker is "could not check"
            reply = {"verdict": "unverifiable", "reason": f"checker error: {type(e).__name__}: {str(e)[:120]}"}
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
        proto.write(json.dumps(reply).encode() + b"\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
