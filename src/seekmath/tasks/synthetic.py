"""The `synthetic` task: grade-school multi-step arithmetic word problems with worked solutions.

Each problem follows one person's count of one kind of item through 2-4 operations (buy more, give
away, multiply into groups, share equally), then asks for the final count. The worked solution
spends one line per step, writes each calculation out (`34 + 18 = 52`) and ends with
`The answer is \\boxed{N}.` — the format the grader, SFT and process supervision (one step per line)
all rely on.

Difficulty knobs (TasksConfig): number of steps, operand size (`max_value`), multiplier/divisor size
(`max_factor`), and which operations appear. A 4M-parameter model learns the easy end on a CPU in
minutes; errors compound over steps, which leaves RL room to help.

Three splits, disjoint by construction: a problem's *arithmetic* (start value and every operation
with its operand; names and wording excluded) is hashed, and the hash alone decides its split:

    train   what SFT, pretraining text, the corpus seed and RL prompts are drawn from
    tune    the tuning split: RL's in-loop evaluation and any settings sweep are scored on it
    test    the report split (alias "report"): final numbers only — the eval harness and the
            findings study report on it, nothing is chosen by it

So no held-out problem shares its computation with a training problem, and no report problem with a
tuning problem, whatever the seed. The hash buckets are [0, test_fraction) -> test, then
[test_fraction, test_fraction + tune_fraction) -> tune, the rest -> train: adding the tuning split
left the report split exactly as it was. Generation is deterministic for a (seed, split, n) triple.
"""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
import logging
import random
from dataclasses import dataclass
from typing import Iterator

from seekmath.tasks.records import Problem

log = logging.getLogger("seekmath.tasks")

NAMES = [
    ("Mia", "she", "her"), ("Liam", "he", "his"), ("Ava", "she", "her"), ("Noah", "he", "his"),
    ("Zoe", "she", "her"), ("Omar", "he", "his"), ("Lena", "she", "her"), ("Ravi", "he", "his"),
    ("Ines", "she", "her"), ("Tom", "he", "his"), ("Yuki", "she", "her"), ("Ben", "he", "his"),
    ("Sara", "she", "her"), ("Ali", "he", "his"), ("Nora", "she", "her"), ("Leo", "he", "his"),
]
ITEMS = [
    "apples", "marbles", "stickers", "books", "coins", "pencils", "cards", "shells",
    "stamps", "cookies", "beads", "eggs", "flowers", "toy cars", "candies", "balloons",
]
FRIENDS = ["a friend", "her brother", "his sister", "a neighbour", "the class", "a cousin"]

# One phrasing per operation, question side and solution side. {n}=operand, {p}=previous, {r}=result.
Q_START = "{name} has {a} {items}."
Q_STEP = {
    "add": ["Then {pron} buys {n} more {items}.", "Then {pron} finds {n} more {items}."],
    "sub": ["Then {pron} gives {n} {items} to {friend}.", "Then {pron} loses {n} {items}."],
    "mul": ["Then {pron} gets {n} times as many {items} as {pron} has.", "Then {pron} ends up with {n} times as many {items}."],
    "div": ["Then {pron} splits the {items} into {n} equal groups and keeps one group.", "Then {pron} shares the {items} equally among {n} bags and keeps one bag."],
}
Q_END = "How many {items} does {name} have now?"
S_START = "{Name} starts with {a} {items}."
S_STEP = {
    "add": "After getting {n} more, {pron} has {p} + {n} = {r} {items}.",
    "sub": "After giving away {n}, {pron} has {p} - {n} = {r} {items}.",
    "mul": "With {n} times as many, {pron} has {p} * {n} = {r} {items}.",
    "div": "One of {n} equal groups holds {p} / {n} = {r} {items}.",
}
S_END = "The answer is \\boxed{{{r}}}."


@dataclass(frozen=True)
class Arithmetic:
    """The computation behind a problem; its hash decides the split."""

    start: int
    ops: tuple[tuple[str, int], ...]

    def key(self) -> str:
        return f"{self.start}|" + "|".join(f"{op}{n}" for op, n in self.ops)

    @classmethod
    def from_key(cls, key: str) -> "Arithmetic":
        """The inverse of `key()` (operations are three-letter names followed by the operand)."""
        start, *ops = key.split("|")
        return cls(int(start), tuple((o[:3], int(o[3:])) for o in ops if o))

    def values(self) -> list[int]:
        vals = [self.start]
        for op, n in self.ops:
            vals.append(apply_op(vals[-1], op, n))
        return vals

    @property
    def answer(self) -> int:
        return self.values()[-1]


def apply_op(value: int, op: str, n: int) -> int:
    if op == "add":
        return value + n
    if op == "sub":
        return value - n
    if op == "mul":
        return value * n
    if op == "div":
        return value // n
    raise ValueError(f"unknown operation {op!r}")


SPLITS = ("train", "tune", "test")
SPLIT_ALIASES = {"report": "test", "tuning": "tune"}


def canonical_split(split: str) -> str:
    """'report' -> 'test', 'tuning' -> 'tune'; anything else must be one of SPLITS."""
    split = SPLIT_ALIASES.get(split, split)
    if split not in SPLITS:
        raise ValueError(f"synthetic split must be one of {', '.join(SPLITS)} (or report / tuning), not {split!r}")
    return split


def split_of(arith: Arithmetic, test_fraction: float, tune_fraction: float = 0.0) -> str:
    """The split a computation belongs to: its hash's bucket (see the module doc)."""
    u = int.from_bytes(hashlib.sha256(arith.key().encode()).digest()[:8], "big") % 1_000_000
    if u < test_fraction * 1_000_000:
        return "test"
    if u < (test_fraction + tune_fraction) * 1_000_000:
        return "tune"
    return "train"


def split_size(cfg, split: str) -> int:
    """The default number of problems of a split: tasks.num_train / num_tune / num_test."""
    return {"train": cfg.num_train, "tune": cfg.num_tune, "test": cfg.num_test}[canonical_split(split)]


def _check_fractions(cfg) -> None:
    for key in ("test_fraction", "tune_fraction"):
        if not 0.0 <= getattr(cfg, key) < 1.0:
            raise ValueError(f"tasks.{key} must be in [0, 1), got {getattr(cfg, key)}")
    if cfg.test_fraction + cfg.tune_fraction >= 1.0:
        raise ValueError(f"tasks.test_fraction + tasks.tune_fraction must be < 1 (the rest is train), "
                         f"got {cfg.test_fraction} + {cfg.tune_fraction}")


def _sample_arithmetic(rng: random.Random, cfg) -> Arithmetic:
    steps = rng.randint(cfg.min_steps, cfg.max_steps)
    value = rng.randint(2, cfg.max_value - 1)
    start = value
    ops = []
    for _ in range(steps):
        choices = list(cfg.operations)
        # keep every intermediate count positive and small enough to stay readable
        if value <= 2 or value > cfg.max_value * cfg.max_factor:
            choices = [c for c in choices if c not in ("mul",)] or choices
        divisors = [d for d in range(2, cfg.max_factor + 1) if value % d == 0]
        if not divisors:
            choices = [c for c in choices if c != "div"] or ["add"]
        if value <= 1:
            choices = [c for c in choices if c not in ("sub", "div")] or ["add"]
        if value > cfg.max_value * 2:
            choices = [c for c in choices if c != "add"] or choices
        op = rng.choice(choices)
        if op == "add":
            n = rng.randint(1, cfg.max_value - 1)
        elif op == "sub":
            n = rng.randint(1, value - 1)
        elif op == "mul":
            n = rng.randint(2, cfg.max_factor)
        else:
            n = rng.choice(divisors)
        ops.append((op, n))
        value = apply_op(value, op, n)
    return Arithmetic(start, tuple(ops))


def render(arith: Arithmetic, rng: random.Random, pid: str) -> Problem:
    name, pron, poss = rng.choice(NAMES)
    items = rng.choice(ITEMS)
    friend = rng.choice(FRIENDS)
    vals = arith.values()
    q = [Q_START.format(name=name, a=arith.start, items=items)]
    s = [S_START.format(Name=name, a=arith.start, items=items)]
    for (op, n), p, r in zip(arith.ops, vals[:-1], vals[1:]):
        q.append(rng.choice(Q_STEP[op]).format(pron=pron, n=n, items=items, friend=friend))
        s.append(S_STEP[op].format(pron=pron, n=n, p=p, r=r, items=items))
    q.append(Q_END.format(items=items, name=name))
    s.append(S_END.format(r=arith.answer))
    return Problem(
        id=pid,
        question=" ".join(q),
        answer=str(arith.answer),
        solution="\n".join(s),
        source="synthetic",
        metadata={"steps": len(arith.ops), "ops": [op for op, _ in arith.ops], "key": arith.key()},
    )


def iter_problems(cfg, split: str, seed: int | None = None) -> Iterator[Problem]:
    """Stream of distinct problems of one split, deterministic for (cfg, split, seed).

    It ends only when the split's problem space is exhausted (50,000 draws in a row found nothing new),
    which happens for small `max_value` / few steps.
    """
    split = canonical_split(split)
    _check_fractions(cfg)
    seed = cfg.seed if seed is None else seed
    rng = random.Random(f"synthetic/{split}/{seed}")
    seen: set[str] = set()
    i = misses = 0
    while True:
        arith = _sample_arithmetic(rng, cfg)
        key = arith.key()
        if key in seen or split_of(arith, cfg.test_fraction, cfg.tune_fraction) != split:
            misses += 1
            if misses > 50_000:  # (nearly) every distinct problem of this split has been drawn
                return
            continue
        misses = 0
        seen.add(key)
        yield render(arith, rng, f"synthetic-{split}-{seed}-{i}")
        i += 1


# (generation settings, split, seed) -> (the problems drawn so far, the stream they came from or None once
# it ended). Several stages of one process ask for the same split (tokenizer, pretraining, SFT and RL
# all read the train split); a small problem space costs seconds to exhaust, so it is drawn once.
_DRAWN: dict[tuple, tuple[list[Problem], Iterator[Problem] | None]] = {}


def _generation_key(cfg, split: str, seed: int | None) -> tuple:
    fields = ("seed", "min_steps", "max_steps", "max_value", "max_factor", "test_fraction", "tune_fraction")
    return (tuple(getattr(cfg, f) for f in fields), tuple(cfg.operations), split, cfg.seed if seed is None else seed)


def generate_problems(cfg, split: str = "train", n: int | None = None, seed: int | None = None) -> list[Problem]:
    """`n` distinct problems of `split` (train | tune | test, alias report; default n: `split_size`).

    A small problem space may hold fewer than `n`: then all of them are returned, with a warning.
    The list is the prefix of one deterministic stream, whatever `n` earlier calls asked for.
    """
    split = canonical_split(split)
    if n is None:
        n = split_size(cfg, split)
    key = _generation_key(cfg, split, seed)
    drawn, stream = _DRAWN.get(key) or ([], iter_problems(cfg, split, seed))
    if len(drawn) < n and stream is not None:
        drawn.extend(itertools.islice(stream, n - len(drawn)))
        if len(drawn) < n:
            stream = None  # the split's problem space is exhausted
    _DRAWN[key] = (drawn, stream)
    if len(drawn) < n:
        log.warning("synthetic %s split holds only %d distinct problems for this config (asked for %d)",
                    split, len(drawn), n)
    # copies: callers may annotate a problem's metadata
    return [dataclasses.replace(p, metadata=dict(p.metadata)) for p in drawn[:n]]


def worked_text(p: Problem) -> str:
    """A problem and its worked solution as plain text (tokenizer training, pretraining text)."""
    return f"Problem: {p.question}\nSolution: {p.solution}"
