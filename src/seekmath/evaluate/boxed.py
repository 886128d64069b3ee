"""Balanced-brace scanning of `\\boxed{...}` / `\\fbox{...}` — shared by the grader and the loaders."""

from __future__ import annotations

import re

_BOX = re.compile(r"\\(?:boxed|fbox)\s*")


def find_boxed(text: str) -> list[str]:
    """Contents of every balanced `\\boxed{...}` / `\\fbox{...}` in order; `\\boxed 5` (no brace) counts too.

    An unbalanced box (no closing brace) is skipped: it yields nothing rather than a crash.
    """
    out: list[str] = []
    for m in _BOX.finditer(text):
        i = m.end()
        if i < len(text) and text[i] == "{":
            depth, j = 0, i
            while j < len(text):
                c = text[j]
                if c == "\\" and j + 1 < len(text):
                    j += 2
                    continue
                if c == "{":
                    depth += 1
                elif c == "}":
                    depth -= 1
                    if depth == 0:
                        out.append(text[i + 1 : j])
                        break
                j += 1
        elif text[m.start():m.end()].startswith("\\boxed") and m.end() > m.start() + 6 and text[m.start() + 6] == " ":
            tail = re.match(r"[^\s$.,]+", text[i:])
            if tail:
                out.append(tail.group(0))
    return out


def last_boxed(text: str) -> str | None:
    found = find_boxed(text)
    return found[-1] if found else None


def boxed_spans(text: str) -> list[tuple[int, str | None]]:
    """(start offset, content) of every `\\boxed`/`\\fbox` command in order; content is None when the
    box is unbalanced or has no argument at all — so a caller can tell "the last box is broken" apart
    from "there is no box"."""
    out: list[tuple[int, str | None]] = []
    for m in _BOX.finditer(text):
        i = m.end()
        content: str | None = None
        if i < len(text) and text[i] == "{":
            depth, j = 0, i
            while j < len(text):
                c = text[j]
                if c == "\\" and j + 1 < len(text):
                    j += 2
                    continue
                if c == "{":
                    depth += 1
                elif c == "}":
                    depth -= 1
                    if depth == 0:
                        content = text[i + 1 : j]
                        break
                j += 1
        elif text.startswith("\\boxed ", m.start()):
            tail = re.match(r"[^\s$.,]+", text[i:])
            content = tail.group(0) if tail else None
        out.append((m.start(), content))
    return out
