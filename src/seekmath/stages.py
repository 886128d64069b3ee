"""The recipe's stages in order, and where each leaves its outputs in a run folder.

One place for the stage lists: `recipe.py` runs them, `report.py` reads their folders and
`findings/` starts from the SFT checkpoint they leave. This module imports nothing of the project,
so the flow stays one way: stages <- report <- recipe <- findings (study) <- `seekmath run`.

    runs/<name>/<stage>/DONE.json   a finished stage (seconds, peak memory)
    runs/<name>/<stage>/final/      the HF checkpoint of a model stage
"""

from __future__ import annotations

from pathlib import Path

STAGES = ["crawl", "corpus", "pretrain", "sft", "rl", "eval"]
MODEL_STAGES = ["pretrain", "sft", "rl"]  # stages whose checkpoint is evaluated
PREP_STAGES = STAGES[: STAGES.index("sft") + 1]  # what the findings study needs before its own RL runs


def done_marker(run_dir: Path, stage: str) -> Path:
    return Path(run_dir) / stage / "DONE.json"


def stage_done(run_dir: Path, stage: str) -> bool:
    return done_marker(run_dir, stage).is_file()


def final_model(run_dir: Path, stage: str) -> Path:
    return Path(run_dir) / stage / "final"
