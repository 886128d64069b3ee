"""One record type for a math problem, whatever its source."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class Problem:
    id: str
    question: str
    answer: str  # the gold final answer, bare or LaTeX
    solution: str | None = None  # a worked solution (chain of thought), when the source has one
    source: str = ""  # benchmark or generator name
    metadata: dict[str, Any] = field(default_factory=dict)  # choices, level, subject, steps, ...

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Problem":
        return cls(
            id=str(d["id"]),
            question=d["question"],
            answer=str(d["answer"]),
            solution=d.get("solution"),
            source=d.get("source", ""),
            metadata=dict(d.get("metadata") or {}),
        )
