"""The paper's LR schedules (spec §2.1-2.2) at hand-computed points, and the optimizer set-up."""

import pytest
import torch

from seekmath.train.schedules import lr_factor, make_optimizer, make_scheduler, param_groups
from seekmath.train.settings import PretrainConfig, SFTConfig


def test_multistep_warmup_and_decay_points():
    f = lambda s: lr_factor(s, 100, schedule="multistep", warmup_steps=10)  # noqa: E731
    assert f(0) == pytest.approx(0.1)  # (0 + 1) / 10
    assert f(4) == pytest.approx(0.5)
    assert f(9) == pytest.approx(1.0)
    assert f(10) == 1.0 and f(79) == 1.0
    assert f(80) == pytest.approx(0.316) and f(89) == pytest.approx(0.316)  # 31.6% of peak at 80%
    assert f(90) == pytest.approx(0.1) and f(99) == pytest.approx(0.1)  # 10% at 90%


def test_constant_and_cosine():
    assert [lr_factor(s, 50, schedule="constant") for s in (0, 25, 49)] == [1.0, 1.0, 1.0]
    assert lr_factor(0, 50, schedule="constant", warmup_steps=4) == pytest.approx(0.25)
    assert lr_factor(0, 11, schedule="cosine") == pytest.approx(1.0)
    assert lr_factor(11, 11, schedule="cosine") == pytest.approx(0.1)
    assert lr_factor(5, 10, schedule="cosine") == pytest.approx(0.1 + 0.9 * 0.5)


def test_bad_schedule_is_named():
    with pytest.raises(ValueError, match="unknown schedule 'linear'"):
        lr_factor(0, 10, schedule="linear")
    with pytest.raises(ValueError, match="same length"):
        lr_factor(0, 10, decay_at=[0.8], decay_to=[0.3, 0.1])


def test_scheduler_applies_the_factor_to_the_paper_peak():
    model = torch.nn.Sequential(torch.nn.Linear(4, 4), torch.nn.LayerNorm(4))
    cfg = PretrainConfig(lr=4.2e-4, warmup_steps=2, max_steps=10)
    opt = make_optimizer(model, cfg)
    sched = make_scheduler(opt, cfg, 10)
    lrs = []
    for _ in range(10):
        lrs.append(sched.get_last_lr()[0])
        opt.step()
        sched.step()
    assert lrs[0] == pytest.approx(2.1e-4) and lrs[1] == pytest.approx(4.2e-4)
    assert lrs[8] == pytest.approx(4.2e-4 * 0.316) and lrs[9] == pytest.approx(4.2e-5)
    assert opt.defaults["betas"] == (0.9, 0.95)
    assert SFTConfig().schedule == "constant" and SFTConfig().weight_decay == 0.1


def test_weight_decay_skips_one_dimensional_params():
    model = torch.nn.Sequential(torch.nn.Linear(4, 4), torch.nn.LayerNorm(4))
    decay, no_decay = param_groups(model, 0.1)
    assert [p.shape for p in decay["params"]] == [torch.Size([4, 4])]
    assert decay["weight_decay"] == 0.1 and no_decay["weight_decay"] == 0.0 and len(no_decay["params"]) == 3
