"""`seekmath grade --input IN.jsonl --output OUT.jsonl [--mode strict|deepseek] [--workers N] [--timeout S]`

Each input line: {"response": ..., "gold": ...} plus optional "question", "id", "bench".
Each output line (input order): the input object plus "pred", "verdict", "reason".
A one-line summary goes to stderr; exit code 0 when grading ran (whatever the verdicts), 2 on bad input.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from pathlib import Path

from seekmath.runs import atomic_write_jsonl, iter_jsonl


class GradeInputError(ValueError):
    pass


def read_items(path: Path) -> list[dict]:
    """Parse IN.jsonl strictly: every non-blank line must be an object with string-like response and gold."""
    items = []
    for lineno, obj in iter_jsonl(path, error=GradeInputError):
        if not isinstance(obj, dict):
            raise GradeInputError(f"{path}:{lineno}: expected a JSON object, got {type(obj).__name__}")
        missing = [k for k in ("response", "gold") if k not in obj]
        if missing:
            raise GradeInputError(f"{path}:{lineno}: missing key(s) {missing}")
        for k in ("response", "gold"):
            if obj[k] is not None and not isinstance(obj[k], (str, int, float)):
                raise GradeInputError(f"{path}:{lineno}: '{k}' must be a string or number, got {type(obj[k]).__name__}")
        items.append(obj)
    return items


def main(command: str = "grade", argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog=f"seekmath {command}", description=__doc__.split("\n\n")[0])
    parser.add_argument("--input", required=True, type=Path, help="jsonl with 'response' and 'gold' per line")
    parser.add_argument("--output", required=True, type=Path, help="jsonl written atomically, input order")
    parser.add_argument("--mode", choices=("strict", "deepseek"), default="strict")
    parser.add_argument("--workers", type=int, default=2, help="grading worker processes / threads (default 2)")
    parser.add_argument("--timeout", type=float, default=1.0, help="hard per-item time limit in seconds")
    args = parser.parse_args(argv)

    from seekmath.evaluate.grade import grade_batch

    try:
        items = read_items(args.input)
    except FileNotFoundError:
        print(f"seekmath {command}: input file not found: {args.input}", file=sys.stderr)
        return 2
    except GradeInputError as e:
        print(f"seekmath {command}: {e}", file=sys.stderr)
        return 2
    if args.timeout <= 0:
        print(f"seekmath {command}: --timeout must be > 0", file=sys.stderr)
        return 2

    t0 = time.monotonic()
    batch = [{**it, "response": "" if it["response"] is None else str(it["response"]),
              "gold": "" if it["gold"] is None else str(it["gold"])} for it in items]
    verdicts = []
    if len(batch) < 2000:  # no progress bar (nor its import: a one-item call must start fast)
        verdicts = grade_batch(batch, mode=args.mode, timeout=args.timeout, workers=args.workers)
    else:
        from tqdm import tqdm

        chunk = 256
        with tqdm(total=len(batch), desc="grading", unit="item", file=sys.stderr) as bar:
            for i in range(0, len(batch), chunk):
                verdicts += grade_batch(batch[i : i + chunk], mode=args.mode, timeout=args.timeout, workers=args.workers)
                bar.update(min(chunk, len(batch) - i))
    rows = [{**it, "pred": v.pred, "verdict": v.verdict, "reason": v.reason} for it, v in zip(items, verdicts)]
    atomic_write_jsonl(args.output, rows)
    counts = Counter(v.verdict for v in verdicts)
    n = len(verdicts)
    acc = counts["correct"] / n if n else 0.0
    print(f"graded {n} items ({args.mode}) in {time.monotonic() - t0:.1f}s: correct {counts['correct']} "
          f"({acc:.1%}), incorrect {counts['incorrect']}, unverifiable {counts['unverifiable']} -> {args.output}",
          file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main("grade", sys.argv[1:]))
