"""Reasoning-step segmentation for process supervision [P §4.1.3; spec §3.3 "segmentation UNSPECIFIED"].

Process supervision scores "the end of every reasoning step": output i has K_i steps whose end tokens
index(1) < ... < index(K_i) carry the step rewards. The paper leaves the segmentation rule open;
Math-Shepherd (whose labels the paper's RM follows) treats each line as one step. Here a rule is a
separator regular expression and a step is a non-blank piece between separators, as a character
span of the response:

- "lines" (default): pieces between newlines — one step per non-empty line (Math-Shepherd; the
  synthetic task's worked solutions write one step per line).
- "paragraphs": pieces between blank lines.
- "regex:PATTERN": pieces between matches of PATTERN (e.g. `regex:(?<=\\.)\\s+` for sentences).

Spans are trimmed of surrounding whitespace, so a step's end is its last visible character.
Mapping to tokens: the step ends at the token that contains its last character, found from each
token's character offsets (a fast tokenizer's `return_offsets_mapping`, or offsets rebuilt by
incremental decoding when generated ids are not the tokenizer's canonical tokenisation).
Everything here is pure and deterministic.
"""

from __future__ import annotations

import bisect
import re
from functools import lru_cache
from typing import Sequence

RULES = {"lines": r"\n", "paragraphs": r"\n[ \t\r\f\v]*\n"}


@lru_cache(maxsize=64)
def _separator(rule: str) -> re.Pattern:
    if rule in RULES:
        return re.compile(RULES[rule])
    if rule.startswith("regex:"):
        pattern = rule[len("regex:"):]
        if not pattern:
            raise ValueError("step rule 'regex:' needs a pattern after the colon, e.g. 'regex:\\n\\n'")
        try:
            sep = re.compile(pattern)
        except re.error as e:
            raise ValueError(f"step rule {rule!r}: invalid regular expression: {e}") from None
        if sep.match(""):
            raise ValueError(f"step rule {rule!r}: the separator pattern matches the empty string")
        return sep
    raise ValueError(f"unknown step rule {rule!r}; expected 'lines', 'paragraphs' or 'regex:PATTERN'")


def split_steps(text: str, rule: str = "lines") -> list[tuple[int, int]]:
    """Character spans [start, end) of the reasoning steps of `text`, in order, trimmed of whitespace.

    >>> split_steps(" a = 1\\n\\n b = 2 \\nc")
    [(1, 6), (9, 14), (16, 17)]
    """
    sep = _separator(rule)
    spans: list[tuple[int, int]] = []
    pos = 0
    for m in sep.finditer(text):
        _add_trimmed(text, pos, m.start(), spans)
        pos = m.end()
    _add_trimmed(text, pos, len(text), spans)
    return spans


def _add_trimmed(text: str, start: int, end: int, spans: list[tuple[int, int]]) -> None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if end > start:
        spans.append((start, end))


def step_texts(text: str, rule: str = "lines") -> list[str]:
    return [text[s:e] for s, e in split_steps(text, rule)]


def step_prefixes(text: str, rule: str = "lines") -> list[str]:
    """For each step j, the response text up to the start of step j+1 (the whole text for the last step).

    Math-Shepherd rolls out completions from these prefixes; keeping the separator that follows a step
    (e.g. its newline) lets the policy start the next step as it would have.
    """
    spans = split_steps(text, rule)
    return [text[: spans[j + 1][0]] if j + 1 < len(spans) else text for j in range(len(spans))]


def char_spans_to_token_ends(offsets: Sequence[tuple[int, int]], spans: Sequence[tuple[int, int]]) -> list[int]:
    """Index of the token that holds the last character of each span.

    offsets: per token, its [start, end) character range in the text (a fast tokenizer's
    `offset_mapping`); zero-width tokens (BOS/EOS/pad, offsets (0, 0)) never end a step.
    A span's last character c = end - 1 belongs to the token with start <= c < end; if no token covers
    c (e.g. a character dropped by normalisation) the last token starting at or before c is used.
    Raises if a span lies before every token.
    """
    starts, ends, index = [], [], []
    for t, (s, e) in enumerate(offsets):
        if e > s:  # skip zero-width (special) tokens
            starts.append(s)
            ends.append(e)
            index.append(t)
    out = []
    for span_start, span_end in spans:
        if span_end <= span_start:
            raise ValueError(f"empty step span {(span_start, span_end)}")
        c = span_end - 1
        k = bisect.bisect_right(starts, c) - 1  # last token starting at or before c
        if k < 0:
            raise ValueError(f"step span {(span_start, span_end)} lies before the first token")
        out.append(index[k])
    return out


def offsets_by_decoding(tokenizer, ids: Sequence[int]) -> list[tuple[int, int]]:
    """Character offsets of each token of `ids` in `tokenizer.decode(ids, skip_special_tokens=True)`.

    Built by decoding growing prefixes, so it is exact for any id sequence (also non-canonical ones a
    sampler can emit) — the price is O(n) decodes. Special tokens get zero width. A byte-level token
    that ends inside a multi-byte character is attributed to the character it starts.
    """
    offsets = []
    prev = 0
    special = set(getattr(tokenizer, "all_special_ids", []) or [])
    for t in range(len(ids)):
        if ids[t] in special:
            offsets.append((prev, prev))
            continue
        text = tokenizer.decode(list(ids[: t + 1]), skip_special_tokens=True)
        # an incomplete UTF-8 sequence decodes to U+FFFD; do not let it count as a character yet
        n = len(text.rstrip("\ufffd")) if text.endswith("\ufffd") else len(text)
        n = max(n, prev)
        offsets.append((prev, n) if n > prev else (prev, prev))
        prev = n
    return offsets


def response_token_offsets(tokenizer, response_ids: Sequence[int], response_text: str) -> list[tuple[int, int]]:
    """Character offsets of `response_ids` within `response_text`.

    Fast path: if tokenising `response_text` (no special tokens) gives exactly `response_ids` (minus a
    trailing EOS), the tokenizer's own `return_offsets_mapping` is used. Otherwise (sampled ids that are
    not the canonical tokenisation, or text cut at a stop string) offsets come from incremental decoding.
    """
    ids = list(response_ids)
    eos = getattr(tokenizer, "eos_token_id", None)
    core = ids[:-1] if ids and eos is not None and ids[-1] == eos else ids
    enc = tokenizer(response_text, add_special_tokens=False, return_offsets_mapping=True)
    if list(enc["input_ids"]) == core:
        offsets = [tuple(o) for o in enc["offset_mapping"]]
        if len(core) < len(ids):
            offsets.append((len(response_text), len(response_text)))
        return offsets
    return offsets_by_decoding(tokenizer, ids)


def step_end_token_indices(tokenizer, response_ids: Sequence[int], response_text: str, rule: str = "lines") -> list[int]:
    """Index into `response_ids` of the token where each step of `response_text` ends (see module doc).

    Steps that begin beyond the text the ids decode to (possible when the text and ids disagree) are
    clamped to the last token. Returns [] for a response without steps.
    """
    spans = split_steps(response_text, rule)
    if not spans:
        return []
    if not response_ids:
        raise ValueError("response has steps but no token ids")
    offsets = response_token_offsets(tokenizer, response_ids, response_text)
    if all(e <= s for s, e in offsets):
        return [len(response_ids) - 1] * len(spans)
    return char_spans_to_token_ends(offsets, spans)
