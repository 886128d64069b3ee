"""Math task sources: the Problem record, benchmark loaders and the `synthetic` generator."""

from seekmath.tasks.records import Problem

__all__ = ["Problem"]
