import pytest
import torch


@pytest.fixture(autouse=True)
def _one_thread():
    torch.set_num_threads(1)
    yield


@pytest.fixture(scope="session")
def smoke_model(tiny_model_dir):
    from seekmath.models import load_model, load_tokenizer

    return load_model(tiny_model_dir, device="cpu"), load_tokenizer(tiny_model_dir)
