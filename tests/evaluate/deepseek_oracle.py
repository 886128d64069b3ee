"""Test oracle: DeepSeek-Math's own evaluation code grades JSON-lines items (run by `make test-deepseek`).

Runs ONLY inside the throw-away venv with the versions DeepSeek's environment.yml pins (sympy 1.12,
antlr4-python3-runtime 4.11.0, regex, numpy) and imports the reference code from its folder (never
copied into the product). Its `math_equal` falls back to `sympy.parse_expr`, which evaluates text: it
is only given the project's own test inputs (benchmark references, stored model responses and
generated pairs), and it runs in this separate process.

    python deepseek_oracle.py REFERENCE_DIR < items.jsonl > verdicts.jsonl

Item: {"id", "response", "gold", "bench": "math" | null, "question"}. Output line: {"id", "pred",
"correct": bool | null} (null = the item passed the per-item time limit, like the original's 15 s
process-pool timeout). The pipeline is DeepSeek's: MATH items as `process_math_test` +
`extract_math_few_shot_cot_answer` + `eval_math`; other items as `extract_last_single_answer` +
`eval_last_single_answer`.
"""

import json
import signal
import sys

TIME_LIMIT_S = 15  # DeepSeek's evaluation ran each item in a pebble process pool with timeout=15


class _Timeout(BaseException):
    pass


def _alarm(signum, frame):
    raise _Timeout


def main() -> int:
    sys.path.insert(0, sys.argv[1])
    sys.setrecursionlimit(10_000)
    from data_processing.answer_extraction import (extract_last_single_answer, extract_math_answer,
                                                   extract_math_few_shot_cot_answer)
    from eval.eval_script import eval_last_single_answer, eval_math

    signal.signal(signal.SIGALRM, _alarm)
    for line in sys.stdin:
        it = json.loads(line)
        question = it.get("question") or ""
        pred = None
        signal.alarm(TIME_LIMIT_S)
        try:
            if it.get("bench") == "math":
                gold = it["gold"] if "boxed" in it["gold"] else "\\boxed{" + it["gold"] + "}"
                answer = extract_math_answer(question, gold, task="cot")
                pred = extract_math_few_shot_cot_answer(question, it["response"], task="cot")
                correct = bool(eval_math({"prediction": pred, "answer": answer}))
            else:
                from data_processing.answer_extraction import strip_string

                pred = extract_last_single_answer(question, it["response"], task="cot")
                correct = bool(eval_last_single_answer({"prediction": pred, "answer": strip_string(it["gold"])}))
        except _Timeout:
            correct = None
        except Exception:  # noqa: BLE001 — DeepSeek's eval scored a crashing item as wrong
            correct = False
        finally:
            signal.alarm(0)
        print(json.dumps({"id": it["id"], "pred": pred, "correct": correct}), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
