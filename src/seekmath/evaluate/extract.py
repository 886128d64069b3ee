"""Answer extraction (first version; see the full anchor order below once complete).

Anchor order: Minerva "final answer is $X$. I hope it is correct" -> last \\boxed{}/\\fbox{} ->
"The answer is" -> GSM8K "####" -> last number.
"""

from __future__ import annotations

import re

from seekmath.evaluate.boxed import last_boxed

_MINERVA = re.compile(r"final answer is \$(.+?)\$\.? ?I hope", re.S)
_ANSWER_IS = re.compile(r"[Tt]he (?:final )?answer is[:\s]*(.+)")
_HASHES = re.compile(r"####\s*(.+)")
_NUMBER = re.compile(r"-?\d[\d,]*(?:\.\d+)?|-?\.\d+")


def extract_answer(response: str, bench: str | None = None, mode: str = "strict") -> str | None:
    if response is None:
        return None
    m = list(_MINERVA.finditer(response))
    if m:
        return m[-1].group(1).strip()
    box = last_boxed(response)
    if box is not None:
        return box.strip() or None
    m = list(_ANSWER_IS.finditer(response))
    if m:
        return m[-1].group(1).strip().rstrip(".").strip() or None
    m = list(_HASHES.finditer(response))
    if m:
        return m[-1].group(1).strip() or None
    nums = _NUMBER.findall(response)
    return nums[-1].replace(",", "") if nums else None
