"""Exact step labels on the synthetic task: the upper bound next to Math-Shepherd's estimated labels.

Math-Shepherd (which the paper's PRM data follows, spec §2.3) labels step j of a response by rolling
out N completions from the prefix ending at step j: hard label 1 if any reaches the gold answer. Its
labels are estimates whose quality grows with N and the policy's skill. On the synthetic task the
truth of every step is known: each solution line states one calculation `p OP n = r` of the problem's
computation (tasks/synthetic.py), so a line can be checked against it without any rollout.

Label of step j (pure, deterministic):
    1 if steps 1..j hold no wrong checkable statement, else 0 — the prefix is still a correct
    derivation. Once a step is wrong every later step is 0 (an error is never undone).
What is checked, in order within a line:
    - each calculation `a OP b = c`: it must be the next operation of the problem's computation —
      a = the current true value, OP and b = its operation and operand (a and b may swap for + and
      *), c = the true result. A calculation after the last operation is wrong.
    - a `\\boxed{X}`: X must be the true answer.
    - the first line, when it has no calculation: its first number, if any, must be the start value.
    Lines with nothing checkable keep the label of the line before.
The last step's label is also 0 when the response's final answer is graded wrong (`final_correct`),
as Math-Shepherd sets the last step to the response's own correctness.

The difference to Math-Shepherd: exact labels judge the derivation, not reachability — a wrong prefix
that a rollout could still turn into the gold answer (a lucky guess) is labelled 0 here.
"""

from __future__ import annotations

import re
from typing import Sequence

from seekmath.evaluate.boxed import last_boxed
from seekmath.rl.segment import step_texts
from seekmath.tasks.synthetic import Arithmetic

CALCULATION = re.compile(r"(-?\d+)\s*([+\-*/])\s*(-?\d+)\s*=\s*(-?\d+)")
SYMBOL = {"add": "+", "sub": "-", "mul": "*", "div": "/"}
COMMUTATIVE = {"+", "*"}
_NUMBER = re.compile(r"-?\d+")


def arithmetic_of(problem) -> Arithmetic:
    """The computation behind a synthetic problem (from `metadata["key"]`); a clear error otherwise."""
    key = (getattr(problem, "metadata", None) or {}).get("key")
    if not key:
        raise ValueError(f"exact step labels need synthetic-task problems (metadata 'key'); problem "
                         f"{getattr(problem, 'id', '?')!r} from {getattr(problem, 'source', '?')!r} has none")
    return Arithmetic.from_key(key)


def _calculation_ok(m: re.Match, arith: Arithmetic, k: int) -> bool:
    if k >= len(arith.ops):
        return False
    a, sym, b, c = int(m.group(1)), m.group(2), int(m.group(3)), int(m.group(4))
    op, n = arith.ops[k]
    vals = arith.values()
    operands_ok = (a, b) == (vals[k], n) or (sym in COMMUTATIVE and (b, a) == (vals[k], n))
    return sym == SYMBOL[op] and operands_ok and c == vals[k + 1]


def exact_step_labels(response: str, arith: Arithmetic, rule: str = "lines", final_correct: bool | None = None) -> list[float]:
    """One 0/1 label per step of `response` (steps by `rule`, as the PRM segments them); see the module doc."""
    labels: list[float] = []
    ok, k = True, 0  # k: operations of the true computation stated so far
    for j, text in enumerate(step_texts(response, rule)):
        calcs = list(CALCULATION.finditer(text))
        for m in calcs:
            ok = ok and _calculation_ok(m, arith, k)
            k += 1
        boxed = last_boxed(text)
        if boxed is not None:
            ok = ok and boxed.strip() == str(arith.answer)
        if j == 0 and not calcs and boxed is None:
            first = _NUMBER.search(text)
            ok = ok and (first is None or int(first.group()) == arith.start)
        labels.append(float(ok))
    if labels and final_correct is not None and not final_correct:
        labels[-1] = 0.0
    return labels


def exact_label_batch(problems: Sequence, responses: Sequence[str], finals: Sequence[float], rule: str = "lines") -> list[list[float]]:
    """`exact_step_labels` for each (problem, response, graded outcome)."""
    if not len(problems) == len(responses) == len(finals):
        raise ValueError(f"exact_label_batch: {len(problems)} problems, {len(responses)} responses, {len(finals)} outcomes")
    return [exact_step_labels(r, arithmetic_of(p), rule, bool(f > 0.5)) for p, r, f in zip(problems, responses, finals)]
