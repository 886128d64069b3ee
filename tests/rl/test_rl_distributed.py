

def test_idle_micro_batch_adds_nothing(tiny_model_dir, one_process_group):
    """The stand-in forward/backward a process runs to keep step with busier ones leaves every gradient as it was."""
    from seekmath.distributed import Dist, wrap_distributed
    from seekmath.models import load_model
    from seekmath.rl.distributed import idle_micro_batch
    from seekmath.rl.rollout import GroupedRollout, TokenScorer, score_outputs

    scorer, _ = wrap_distributed(TokenScorer(load_model(tiny_model_dir, dtype="float32", device="cpu")), "fsdp", Dist("cpu"))
    rollout = GroupedRollout([[1, 40, 41]], [[50, 51, 52], [53]], [0, 0], 0)
    logp, _, m = score_outputs(scorer, rollout, None)
    (logp * m).sum().backward()
    before = {n: p.grad.full_tensor().clone() for n, p in scorer.named_parameters()}
    idle_micro_batch(scorer, 0)
    for n, p in scorer.named_parameters():
        assert torch.equal(p.grad.full_tensor(), before[n]), n
