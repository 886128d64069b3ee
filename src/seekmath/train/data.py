"""Training data: text sources, a token-share mixture, packing with document isolation, SFT examples.

Pretraining (spec §2.1): documents from several sources are mixed by *share of tokens* (the paper's
56% math corpus / 4% AlgebraicStack / 10% arXiv / 20% code / 10% web). Each source is read in a
seeded random order (reshuffled every epoch); the next document always comes from the source that
is furthest below its target share (`choose_source`), so the realised token shares track the
weights to within one document. Documents are `BOS text EOS`, packed back to back into rows of
exactly `seq_len` tokens; a document longer than the room left continues in the next row.

Document isolation: every packed document restarts its `position_ids` at 0. transformers turns
position resets into a block-diagonal causal mask (masking_utils.find_packed_sequence_indices) for
eager, sdpa and flash attention alike, so no token attends across a document boundary; the first
token of each segment carries no loss (its predecessor belongs to another document). RoPE sees
in-document positions, exactly as if the document were alone (tested).

SFT (spec §2.2): `User: {q}\\n\\nAssistant: {a}<eos>` with the paper's CoT / tool-integrated
suffixes — or the model's own chat template (`model.prompt_format`, rendered by
`models.render_example` when tokenizing); loss on the assistant turn (answer and end-of-turn/EOS
token) only; examples are packed in a random order up to the context length, each isolated like a
document.

All streams are deterministic for a seed and expose `state_dict()` / `load_state_dict()`: the
checkpoint stores the data position, so a resumed run sees exactly the rows it would have seen.
"""

from __future__ import annotations

import logging
import random
import re
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import torch

from seekmath.runs import iter_jsonl

log = logging.getLogger("seekmath.train")

IGNORE_INDEX = -100


class DataError(ValueError):
    """Training data that cannot be used; the message names the source and the problem."""


@dataclass
class Row:
    """One packed training sequence. `labels[t]` is the target *at* position t (the trainer shifts)."""

    input_ids: list[int]
    labels: list[int]
    position_ids: list[int]

    def num_targets(self) -> int:
        """Tokens that carry loss after the causal shift (label 0 is never predicted)."""
        return sum(1 for x in self.labels[1:] if x != IGNORE_INDEX)


def collate(rows: Sequence[Row], device: torch.device | str = "cpu") -> dict[str, torch.Tensor]:
    return {
        "input_ids": torch.tensor([r.input_ids for r in rows], dtype=torch.long, device=device),
        "labels": torch.tensor([r.labels for r in rows], dtype=torch.long, device=device),
        "position_ids": torch.tensor([r.position_ids for r in rows], dtype=torch.long, device=device),
    }


# ----------------------------------------------------------------------------------------------
# Data specs and text sources


def parse_data_spec(items: Sequence[str] | str) -> list[tuple[str, float]]:
    """`["corpus_dir@0.56", "hf:EleutherAI/proof-pile-2:arxiv@0.1"]` (or one comma-joined string) -> [(source, weight)].

    A source without `@W` gets weight 1. Weights are token shares; they need not sum to 1.
    """
    if isinstance(items, str):
        items = [s for s in items.split(",") if s.strip()]
    out = []
    for item in items:
        src, sep, w = item.strip().rpartition("@")
        if not sep:
            src, w = item.strip(), "1"
        try:
            weight = float(w)
        except ValueError:
            raise DataError(f"data spec {item!r}: weight {w!r} is not a number (use SOURCE@WEIGHT)") from None
        if not src:
            raise DataError(f"data spec {item!r}: empty source")
        if not weight > 0:
            raise DataError(f"data spec {item!r}: weight must be > 0")
        out.append((src, weight))
    if not out:
        raise DataError("no data sources given")
    return out


_FILLER_SUBJECTS = ["The river", "An old farmer", "The small town", "A quiet library", "The morning train", "Our garden",
                    "The museum guide", "A young painter", "The harbour", "The village choir", "A travelling poet", "The forest path"]
_FILLER_VERBS = ["remembers", "welcomes", "hides", "describes", "follows", "celebrates", "paints", "crosses", "watches", "keeps"]
_FILLER_OBJECTS = ["the autumn fog", "a story about the sea", "the evening light", "every visitor", "the smell of bread",
                   "a forgotten song", "the narrow bridge", "the last summer festival", "the birds on the roof", "a letter from home"]
_FILLER_TAILS = ["before the rain starts.", "while the bells ring.", "without saying a word.", "as the sun goes down.",
                 "in the middle of winter.", "with great care.", "for the first time.", "near the old mill."]


def filler_documents(n: int, seed: int = 0) -> list[str]:
    """Generated non-math prose (the `filler` source): a stand-in for the web/natural-language share."""
    rng = random.Random(f"filler/{seed}")
    docs = []
    for _ in range(n):
        sents = [f"{rng.choice(_FILLER_SUBJECTS)} {rng.choice(_FILLER_VERBS)} {rng.choice(_FILLER_OBJECTS)} "
                 f"{rng.choice(_FILLER_TAILS)}" for _ in range(rng.randint(2, 6))]
        docs.append(" ".join(sents))
    return docs


class _HFTextColumn:
    """Random access to one text column of an (Arrow, memory-mapped) HF dataset."""

    def __init__(self, ds: Any, field: str):
        self.ds, self.field = ds, field

    def __len__(self) -> int:
        return len(self.ds)

    def __getitem__(self, i: int) -> str:
        return self.ds[int(i)][self.field]


def _text_of(row: dict, field: str, where: str) -> str:
    for key in (field, "text", "content"):
        if key in row and isinstance(row[key], str):
            return row[key]
    raise DataError(f"{where}: no text field {field!r} (keys: {', '.join(sorted(row))})")


def _read_text_file(path: Path, field: str) -> list[str]:
    name = path.name
    if name.endswith(".parquet"):
        import pyarrow.parquet as pq

        table = pq.read_table(path)
        cols = table.column_names
        col = next((c for c in (field, "text", "content") if c in cols), None)
        if col is None:
            raise DataError(f"{path}: no text column {field!r} (columns: {', '.join(cols)})")
        return [t for t in table.column(col).to_pylist() if isinstance(t, str)]
    if name.endswith((".jsonl", ".jsonl.gz", ".json", ".json.gz")):
        try:
            texts = [_text_of(row, field, f"{path}:{lineno}") for lineno, row in iter_jsonl(path, error=DataError)]
        except (OSError, EOFError) as e:
            raise DataError(f"{path}: unreadable ({e})") from e
        return texts
    if name.endswith((".txt", ".md")):
        return [path.read_text(encoding="utf-8")]
    raise DataError(f"{path}: unsupported file type (expected .jsonl[.gz], .parquet, .txt)")


_TEXT_PATTERNS = ("*.jsonl.gz", "*.jsonl", "*.json.gz", "*.parquet", "*.txt", "*.md")


def load_text_source(spec: str, cfg=None, text_field: str = "text") -> Sequence[str]:
    """Documents of one source.

    - `synthetic`: worked solutions of generated train problems (`tasks.synthetic.worked_text`);
    - `filler`: generated non-math prose;
    - `hf:NAME[:CONFIG[:SPLIT]]`: an HF dataset's text column (split default `train`);
    - a folder: the corpus stage's `DIR/corpus/*.jsonl.gz|parquet` if present, else its own shards;
    - a file: .jsonl[.gz] / .parquet with a `text` field, or a .txt/.md document.
    """
    from seekmath.config import PretrainConfig, TasksConfig

    pcfg = cfg.pretrain if cfg is not None else PretrainConfig()
    if spec == "synthetic":
        from seekmath.tasks.synthetic import generate_problems, worked_text

        tasks = cfg.tasks if cfg is not None else TasksConfig()
        return [worked_text(p) for p in generate_problems(tasks, "train", pcfg.synthetic_documents)]
    if spec == "filler":
        return filler_documents(pcfg.filler_documents, seed=pcfg.seed)
    if spec.startswith("hf:"):
        parts = spec[3:].split(":")
        name, config = parts[0], (parts[1] or None) if len(parts) > 1 else None
        split = parts[2] if len(parts) > 2 else "train"
        try:
            import datasets

            ds = datasets.load_dataset(name, config, split=split)
        except Exception as e:
            raise DataError(f"data source {spec!r}: could not load HF dataset: {type(e).__name__}: {e}") from e
        cols = ds.column_names
        col = next((c for c in (text_field, "text", "content") if c in cols), None)
        if col is None:
            raise DataError(f"data source {spec!r}: no text column {text_field!r} (columns: {', '.join(cols)})")
        return _HFTextColumn(ds, col)
    path = Path(spec)
    if path.is_dir():
        root = path / "corpus" if (path / "corpus").is_dir() else path
        files = sorted({f for pat in _TEXT_PATTERNS for f in root.glob(pat)})
        if not files:
            raise DataError(f"data source {spec!r}: no *.jsonl[.gz] / *.parquet / *.txt files in {root}")
        texts: list[str] = []
        for f in files:
            texts.extend(_read_text_file(f, text_field))
    elif path.is_file():
        texts = _read_text_file(path, text_field)
    else:
        raise DataError(f"data source {spec!r}: no such file or folder (and not synthetic, filler or hf:NAME)")
    texts = [t for t in texts if t.strip()]
    if not texts:
        raise DataError(f"data source {spec!r}: holds no non-empty documents")
    return texts


# ----------------------------------------------------------------------------------------------
# The token-share mixture


def choose_source(taken: Sequence[int], weights: Sequence[float]) -> int:
    """Index of the source furthest below its token share: argmax_k (w_k / sum w) * (T + 1) - taken_k.

    With T = tokens taken so far; ties go to the lower index. Deterministic; over a long run each
    source's share of tokens converges to w_k / sum(w) (within one document).
    """
    total_w = float(sum(weights))
    total = sum(taken) + 1
    best, best_gap = 0, -float("inf")
    for k, (t, w) in enumerate(zip(taken, weights)):
        gap = w / total_w * total - t
        if gap > best_gap:
            best, best_gap = k, gap
    return best


def _rng(seed: int, *keys: Any) -> np.random.Generator:
    return np.random.default_rng([seed] + [zlib.crc32(str(k).encode()) for k in keys])


def split_indices(n: int, n_eval: int, seed: int, name: str) -> tuple[np.ndarray, np.ndarray]:
    """(train, held-out) document indices: a seeded permutation; the first min(n_eval, n // 10) are held out."""
    perm = _rng(seed, "heldout", name).permutation(n)
    k = min(n_eval, n // 10)
    return perm[k:], perm[:k]


def pack_segments(segments: list[list[int]], seq_len: int, doc_isolation: bool, pad_id: int,
                  loss_masks: list[list[bool]] | None = None) -> Row:
    """Concatenate token segments into one row of `seq_len` (padding the rest).

    With isolation each segment restarts its positions and its first token gets no loss; padding is
    its own segment with no loss. `loss_masks[i][j]` False removes segment i's token j from the loss.
    """
    ids: list[int] = []
    labels: list[int] = []
    pos: list[int] = []
    for i, seg in enumerate(segments):
        mask = loss_masks[i] if loss_masks is not None else [True] * len(seg)
        start = len(ids)
        ids.extend(seg)
        for j, (tok, keep) in enumerate(zip(seg, mask)):
            first = j == 0 and doc_isolation
            labels.append(tok if keep and not first else IGNORE_INDEX)
        pos.extend(range(len(seg)) if doc_isolation else range(start, start + len(seg)))
    if len(ids) > seq_len:
        raise ValueError(f"segments hold {len(ids)} tokens, more than seq_len {seq_len}")
    n_pad = seq_len - len(ids)
    if n_pad:
        start = len(ids)
        ids.extend([pad_id] * n_pad)
        labels.extend([IGNORE_INDEX] * n_pad)
        pos.extend(range(n_pad) if doc_isolation else range(start, seq_len))
    return Row(ids, labels, pos)


def _tokenize_doc(tokenizer, text: str) -> list[int]:
    ids = tokenizer(text, add_special_tokens=True)["input_ids"]
    return list(ids) + [tokenizer.eos_token_id]


class PackedTextStream:
    """Endless packed rows from a token-share mixture of text sources (pretraining)."""

    def __init__(self, sources: list[tuple[str, Sequence[str], float]], tokenizer, seq_len: int, seed: int = 0,
                 n_eval: int = 200, doc_isolation: bool = True):
        if seq_len < 2:
            raise DataError(f"seq_len must be >= 2, got {seq_len}")
        self.names = [s[0] for s in sources]
        self.texts = [s[1] for s in sources]
        self.weights = [float(s[2]) for s in sources]
        self.tok, self.seq_len, self.seed, self.doc_isolation = tokenizer, seq_len, seed, doc_isolation
        self.pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
        self.train_idx, self.eval_idx = [], []
        for name, texts in zip(self.names, self.texts):
            tr, ev = split_indices(len(texts), n_eval, seed, name)
            if len(tr) == 0:
                raise DataError(f"data source {name!r}: no training documents")
            self.train_idx.append(tr)
            self.eval_idx.append(ev)
        k = len(sources)
        self.taken, self.epoch, self.cursor = [0] * k, [0] * k, [0] * k
        self.carry: list[int] = []
        self._orders: dict[tuple[int, int], np.ndarray] = {}

    def _order(self, k: int, epoch: int) -> np.ndarray:
        key = (k, epoch)
        if key not in self._orders:
            self._orders = {kk: v for kk, v in self._orders.items() if kk[0] != k}  # keep one epoch per source
            self._orders[key] = self.train_idx[k][_rng(self.seed, "order", self.names[k], epoch).permutation(len(self.train_idx[k]))]
        return self._orders[key]

    def _next_doc(self, k: int) -> list[int]:
        order = self._order(k, self.epoch[k])
        doc = self.texts[k][int(order[self.cursor[k]])]
        self.cursor[k] += 1
        if self.cursor[k] >= len(order):
            self.cursor[k], self.epoch[k] = 0, self.epoch[k] + 1
        return _tokenize_doc(self.tok, doc)

    def next_row(self) -> Row:
        segments: list[list[int]] = []
        room = self.seq_len
        while room > 0:
            if not self.carry:
                k = choose_source(self.taken, self.weights)
                self.carry = self._next_doc(k)
                self.taken[k] += len(self.carry)
            take, self.carry = self.carry[:room], self.carry[room:]
            segments.append(take)
            room -= len(take)
        return pack_segments(segments, self.seq_len, self.doc_isolation, self.pad_id)

    def token_shares(self) -> dict[str, float]:
        total = max(1, sum(self.taken))
        return {n: t / total for n, t in zip(self.names, self.taken)}

    def eval_rows(self, max_rows: int) -> list[Row]:
        """Held-out documents of every source (round robin), packed the same way; at most `max_rows`."""
        docs = []
        longest = max((len(e) for e in self.eval_idx), default=0)
        for i in range(longest):
            for k, ev in enumerate(self.eval_idx):
                if i < len(ev):
                    docs.append(_tokenize_doc(self.tok, self.texts[k][int(ev[i])]))
        rows, segments, room = [], [], self.seq_len
        for doc in docs:
            while doc and len(rows) < max_rows:
                take, doc = doc[:room], doc[room:]
                segments.append(take)
                room -= len(take)
                if room == 0:
                    rows.append(pack_segments(segments, self.seq_len, self.doc_isolation, self.pad_id))
                    segments, room = [], self.seq_len
        if segments and len(rows) < max_rows:
            rows.append(pack_segments(segments, self.seq_len, self.doc_isolation, self.pad_id))
        return rows

    def state_dict(self) -> dict:
        return {"kind": "text", "taken": list(self.taken), "epoch": list(self.epoch), "cursor": list(self.cursor),
                "carry": list(self.carry), "names": list(self.names)}

    def load_state_dict(self, state: dict) -> None:
        if state.get("names") != self.names:
            raise DataError(f"checkpoint data sources {state.get('names')} differ from this run's {self.names}")
        self.taken, self.epoch, self.cursor = list(state["taken"]), list(state["epoch"]), list(state["cursor"])
        self.carry = list(state["carry"])


# ----------------------------------------------------------------------------------------------
# SFT examples


@dataclass
class Example:
    prompt: str  # everything before the answer, e.g. "User: ...\n\nAssistant:"
    completion: str  # the assistant's answer (with its leading space); the EOS is appended when tokenizing
    # The raw turns: when set, tokenize_examples renders them in the model's prompt format (`fmt`);
    # prompt/completion above are then DeepSeek's layout of the same turns (for display).
    user: str | None = None
    answer: str | None = None
    fmt: str = "auto"


def chat_turns(user: str, answer: str, fmt: str = "auto") -> Example:
    """An example made of a user turn and an assistant answer, rendered per model at tokenization."""
    from seekmath.models import chat_example

    prompt, completion = chat_example(user, answer)
    return Example(prompt, completion, user, answer, fmt)


def _prompt_format(cfg) -> str:
    return getattr(getattr(cfg, "model", None), "prompt_format", "auto")


# Our program-of-thought instruction (the paper trains on PoT data but publishes no PoT suffix).
POT_SUFFIX = "\nPlease write a Python program that solves the problem above and prints the answer."

_VAR = "count"
_PY_OP = {"add": "+", "sub": "-", "mul": "*", "div": "//"}


def _program(problem) -> tuple[str, int]:
    """A Python program for a synthetic problem (from its arithmetic), and its printed value."""
    from seekmath.tasks.synthetic import apply_op

    start, *ops = problem.metadata["key"].split("|")
    value = int(start)
    lines = [f"{_VAR} = {value}"]
    for op in ops:
        name, n = op[:3], int(op[3:])
        lines.append(f"{_VAR} = {_VAR} {_PY_OP[name]} {n}")
        value = apply_op(value, name, n)
    lines.append(f"print({_VAR})")
    return "\n".join(lines), value


def synthetic_example(problem, fmt: str = "cot", prompt_format: str = "auto") -> Example:
    """One SFT example in DeepSeekMath's chat layout (spec §2.2).

    cot: question + COT_SUFFIX -> the worked solution ending `The answer is \\boxed{N}.`
    tool: question + TOOL_SUFFIX -> reasoning, a ```python block, its ```output block, the boxed answer
    pot: question + POT_SUFFIX -> a ```python program that prints the answer
    The `output` block holds the value computed from the problem's arithmetic (nothing is executed).
    """
    from seekmath.models import COT_SUFFIX, TOOL_SUFFIX

    if fmt == "cot":
        return chat_turns(problem.question + COT_SUFFIX, problem.solution, prompt_format)
    if fmt == "tool":
        code, value = _program(problem)
        answer = (f"Let's track the count with Python, one operation per line.\n```python\n{code}\n```\n"
                  f"```output\n{value}\n```\nThe answer is \\boxed{{{value}}}.")
        return chat_turns(problem.question + TOOL_SUFFIX, answer, prompt_format)
    if fmt == "pot":
        code, _ = _program(problem)
        return chat_turns(problem.question + POT_SUFFIX, f"```python\n{code}\n```", prompt_format)
    raise DataError(f"sft format {fmt!r} unknown; expected cot, tool or pot")


def synthetic_sft_examples(cfg, n: int | None = None, formats: Sequence[str] = ("cot",), split: str = "train",
                           seed: int = 0) -> list[Example]:
    """Generated problems of `split` as SFT examples; the format of each is drawn by seed from `formats`."""
    from seekmath.tasks.synthetic import generate_problems

    rng = random.Random(f"sft-formats/{seed}")
    probs = generate_problems(cfg.tasks, split, n)
    return [synthetic_example(p, rng.choice(list(formats)), _prompt_format(cfg)) for p in probs]


def _example_from_record(row: dict, where: str, prompt_format: str = "auto") -> Example:
    if "prompt" in row and "completion" in row:
        return Example(str(row["prompt"]), str(row["completion"]))
    if "messages" in row:
        msgs = row["messages"]
        user = [m["content"] for m in msgs if m.get("role") == "user"]
        asst = [m["content"] for m in msgs if m.get("role") == "assistant"]
        if not user or not asst:
            raise DataError(f"{where}: 'messages' needs a user and an assistant turn")
        return chat_turns(user[0], asst[0], prompt_format)
    raise DataError(f"{where}: needs prompt+completion, messages, or question+solution fields")


def _problem_example(p, prompt_format: str = "auto") -> Example:
    """A problem record (question/answer/solution) -> CoT example; a solution lacking \\boxed gets the answer line."""
    from seekmath.models import COT_SUFFIX

    sol = re.sub(r"<<[^<>]*>>", "", (p.solution or "")).strip()  # GSM8K's calculator annotations
    if "\\boxed" not in sol:
        sol = (sol + "\n" if sol else "") + f"The answer is \\boxed{{{p.answer}}}."
    return chat_turns(p.question + COT_SUFFIX, sol, prompt_format)


def load_sft_examples(spec: str, cfg=None, formats: Sequence[str] = ("cot",), n: int | None = None,
                      split: str = "train", seed: int = 0) -> list[Example]:
    """SFT examples from `synthetic`, a task name (`gsm8k_train`), or a jsonl/parquet file of
    {prompt, completion} / {messages} / {question, answer, solution} records."""
    from seekmath.config import TasksConfig
    from seekmath.tasks.loaders import TaskError, load_problems

    pf = _prompt_format(cfg)
    if spec == "synthetic":
        tasks_cfg = cfg if cfg is not None and hasattr(cfg, "tasks") else None
        if tasks_cfg is None:
            from types import SimpleNamespace

            tasks_cfg = SimpleNamespace(tasks=TasksConfig())
        return synthetic_sft_examples(tasks_cfg, n, formats, split, seed)
    path = Path(spec)
    if path.is_file() and path.suffix in (".jsonl", ".parquet", ".json"):
        if path.suffix == ".parquet":
            import pyarrow.parquet as pq

            rows = pq.read_table(path).to_pylist()
        else:
            from seekmath.runs import read_jsonl

            rows = read_jsonl(path)
        if rows and not ({"prompt", "completion"} <= rows[0].keys() or "messages" in rows[0]):
            try:
                return [_problem_example(p, pf) for p in load_problems(str(path))][:n]
            except TaskError as e:
                raise DataError(str(e)) from e
        return [_example_from_record(r, f"{path}:{i + 1}", pf) for i, r in enumerate(rows)][:n]
    try:
        probs = load_problems(spec, limit=n, tasks_cfg=cfg.tasks if cfg is not None else None, split=split)
    except TaskError as e:
        raise DataError(f"sft data {spec!r}: {e}") from e
    return [_problem_example(p, pf) for p in probs]


def tokenize_examples(examples: Sequence[Example], tokenizer, seq_len: int) -> list[tuple[list[int], list[int]]]:
    """(prompt ids, completion ids ending in EOS) per example; too-long examples lose their completion's tail.

    Examples made of turns are rendered in their prompt format (`models.render_example`): the prompt is
    encoded as every engine encodes it (add_special_tokens=True: BOS once, whether the template or the
    tokenizer supplies it), the completion is the assistant turn; EOS is appended unless it ends it."""
    from seekmath.models import render_example

    pairs = [render_example(tokenizer, e.user, e.answer, e.fmt) if e.user is not None else (e.prompt, e.completion)
             for e in examples]
    prompts = tokenizer([p for p, _ in pairs], add_special_tokens=True)["input_ids"]
    comps = tokenizer([c for _, c in pairs], add_special_tokens=False)["input_ids"]
    out, cut = [], 0
    for p, c in zip(prompts, comps):
        c = list(c)
        if not c or c[-1] != tokenizer.eos_token_id:
            c.append(tokenizer.eos_token_id)
        if len(p) + len(c) > seq_len:
            cut += 1
            p = list(p)[: seq_len - 1]
            c = c[: seq_len - len(p)]
        out.append((list(p), c))
    if cut:
        log.warning("%d of %d SFT examples were longer than seq_len %d and were truncated", cut, len(examples), seq_len)
    return out


def sft_segment(prompt_ids: list[int], completion_ids: list[int]) -> tuple[list[int], list[bool]]:
    """Tokens of one example and its loss mask: False on the prompt, True on the assistant's tokens."""
    return prompt_ids + completion_ids, [False] * len(prompt_ids) + [True] * len(completion_ids)


class PackedSFTStream:
    """Endless rows of whole SFT examples packed in a seeded random order (reshuffled each epoch)."""

    def __init__(self, examples: list[tuple[list[int], list[int]]], seq_len: int, pad_id: int, seed: int = 0,
                 doc_isolation: bool = True):
        if not examples:
            raise DataError("no SFT examples")
        self.examples, self.seq_len, self.pad_id, self.seed = examples, seq_len, pad_id, seed
        self.doc_isolation = doc_isolation
        self.epoch, self.cursor = 0, 0
        self._order_cache: tuple[int, np.ndarray] | None = None

    def _order(self) -> np.ndarray:
        if self._order_cache is None or self._order_cache[0] != self.epoch:
            self._order_cache = (self.epoch, _rng(self.seed, "sft-order", self.epoch).permutation(len(self.examples)))
        return self._order_cache[1]

    def next_row(self) -> Row:
        segments, masks, used = [], [], 0
        while True:
            p, c = self.examples[int(self._order()[self.cursor])]
            n = len(p) + len(c)
            if segments and used + n > self.seq_len:
                break
            seg, mask = sft_segment(p, c)
            segments.append(seg)
            masks.append(mask)
            used += n
            self.cursor += 1
            if self.cursor >= len(self.examples):
                self.cursor, self.epoch = 0, self.epoch + 1
        return pack_segments(segments, self.seq_len, self.doc_isolation, self.pad_id, masks)

    def state_dict(self) -> dict:
        return {"kind": "sft", "epoch": self.epoch, "cursor": self.cursor, "n": len(self.examples)}

    def load_state_dict(self, state: dict) -> None:
        if state.get("n") != len(self.examples):
            raise DataError(f"checkpoint was trained on {state.get('n')} SFT examples, this run has {len(self.examples)}")
        self.epoch, self.cursor = int(state["epoch"]), int(state["cursor"])


def sft_eval_rows(examples: list[tuple[list[int], list[int]]], seq_len: int, pad_id: int, max_rows: int,
                  doc_isolation: bool = True) -> list[Row]:
    stream = PackedSFTStream(examples, seq_len, pad_id, seed=0, doc_isolation=doc_isolation)
    stream._order_cache = (0, np.arange(len(examples)))
    rows = []
    while len(rows) < max_rows and stream.epoch == 0:
        rows.append(stream.next_row())
    return rows
