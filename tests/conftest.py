"""Shared fixtures. Tests never reach a hub; real data comes from ../shared beside the repo."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("RAY_AUTH_MODE", "disabled")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO


@pytest.fixture(scope="session")
def shared_data() -> Path:
    data = SHARED / "data"
    if not data.is_dir():
        pytest.skip("../shared/data is not beside this checkout")
    return data


@pytest.fixture(scope="session")
def smoke_cfg():
    from seekmath.config import load_config

    return load_config("smoke")


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory, smoke_cfg) -> Path:
    """A freshly initialised smoke-size model + tokenizer saved in HF format (untrained)."""
    from seekmath.model_cli import init_model

    out = tmp_path_factory.mktemp("tiny-model") / "model"
    init_model(smoke_cfg, out)
    return out
