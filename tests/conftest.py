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


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def one_process_group():
    """A one-process gloo group: torchrun's code path on one process (FSDP2 needs a process group)."""
    import torch

    torch.distributed.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{_free_port()}", rank=0, world_size=1)
    try:
        yield
    finally:
        if torch.distributed.is_initialized():
            torch.distributed.destroy_process_group()


@pytest.fixture
def torchrun():
    """run(script, *args): `torchrun --nproc-per-node 2 script args` on CPU (gloo), one thread per process;
    fails the test with the end of its stderr if it does not exit 0."""
    import subprocess
    import sys

    def run(script: Path, *args: str, timeout: int = 900) -> None:
        env = dict(os.environ, SEEKMATH_NO_PROGRESS="1", PYTHONPATH=str(REPO / "src"), OMP_NUM_THREADS="1")
        cmd = [sys.executable, "-m", "torch.distributed.run", "--nnodes", "1", "--nproc-per-node", "2",
               "--master-addr", "127.0.0.1", "--master-port", str(_free_port()), str(script), *map(str, args)]
        res = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout)
        assert res.returncode == 0, res.stderr[-4000:]

    return run
