"""Reward models (ORM/PRM), Math-Shepherd labels, replay buffer, RFT data (seekmath.rl.reward_model, rft)."""

from __future__ import annotations

import math

import pytest
import torch

from seekmath.generate.base import Completion
from seekmath.rl import reward_model as R
from seekmath.rl.rft import rft_dataset
from seekmath.tasks.records import Problem

torch.set_num_threads(1)

PROMPT = "User: Mia has 5 apples and buys 3 more. How many apples does Mia have now?\n\nAssistant:"
GOOD = " Mia starts with 5 apples.\nAfter getting 3 more, she has 5 + 3 = 8 apples.\nThe answer is \\boxed{8}."
BAD = " Mia starts with 5 apples.\nAfter getting 3 more, she has 5 + 3 = 9 apples.\nThe answer is \\boxed{9}."


@pytest.fixture(scope="module")
def tiny():
    from seekmath.config import load_config
    from seekmath.model_cli import tokenizer_corpus
    from seekmath.models import build_model, train_tokenizer

    cfg = load_config("smoke")
    tok = train_tokenizer(tokenizer_corpus(cfg), cfg.tokenizer.vocab_size)
    return build_model(cfg.model, tok, seed=0), tok


# ---------------------------------------------------------------------------------------------- metrics


def test_roc_auc_hand_computed():
    # positives 0.35, 0.8 vs negatives 0.1, 0.4: pairs won 0.35>0.1, 0.8>0.1, 0.8>0.4 -> 3/4
    assert R.roc_auc([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1]) == pytest.approx(0.75)
    assert R.roc_auc([0.5, 0.5], [1, 0]) == pytest.approx(0.5)  # a tie counts one half
    assert R.roc_auc([0.9, 0.1], [1, 0]) == 1.0
    assert math.isnan(R.roc_auc([0.2, 0.3], [1, 1]))
    m = R.classification_metrics([2.0, -1.0, 0.5], [1.0, 0.0, 0.0])
    assert m["accuracy"] == pytest.approx(2 / 3) and m["auc"] == 1.0 and m["n"] == 3


# ---------------------------------------------------------------------------------------------- model


def test_encode_positions(tiny):
    model, tok = tiny
    rm = R.RewardModel.from_backbone(model, tok, kind="process")
    ids, last, ends = rm.encode(PROMPT, GOOD)
    assert ids[0] == tok.bos_token_id and ids[-1] == tok.eos_token_id and last == len(ids) - 1
    assert len(ends) == 3 and ends == sorted(ends) and ends[-1] < last
    pieces = tok.convert_ids_to_tokens(ids)
    assert all("." in pieces[e] for e in ends)  # every step of GOOD ends with '.'
    # the model is a copy: training the RM never touches the policy
    assert rm.backbone is not model
    # step_end_tokens on generated ids agrees with the encoding (relative to the response)
    p_ids = tok(PROMPT)["input_ids"]
    r_ids = tok(GOOD, add_special_tokens=False)["input_ids"] + [tok.eos_token_id]
    assert rm.step_end_tokens(p_ids, r_ids, GOOD) == [e - len(p_ids) for e in ends]
    assert rm.step_end_tokens(p_ids, r_ids, GOOD, absolute=True) == ends


def test_scores_shapes_and_batch_invariance(tiny):
    model, tok = tiny
    rm = R.RewardModel.from_backbone(model, tok, kind="outcome")
    s = rm.score_outcomes([PROMPT, PROMPT, PROMPT], [GOOD, BAD, " 8"])
    assert s.shape == (3,) and ((s > 0) & (s < 1)).all()
    # padding and batching do not change a score
    alone = rm.score_outcomes([PROMPT], [BAD])
    torch.testing.assert_close(alone[0], s[1], atol=1e-5, rtol=1e-5)
    steps = rm.score_steps([PROMPT, PROMPT], [GOOD, "   "])
    assert [len(x) for x in steps] == [3, 0]
    prm = R.RewardModel.from_backbone(model, tok, kind="process")
    assert prm.score_outcomes([PROMPT], [GOOD])[0].item() == pytest.approx(prm.score_steps([PROMPT], [GOOD])[0][-1], abs=1e-6)


def test_save_load_round_trip(tiny, tmp_path):
    model, tok = tiny
    rm = R.RewardModel.from_backbone(model, tok, kind="process", step_rule="paragraphs", max_length=300)
    rm.save(tmp_path / "rm")
    names = {p.name for p in (tmp_path / "rm").iterdir()}
    assert {"config.json", "model.safetensors", "head.safetensors", "reward_model.json", "tokenizer.json"} <= names
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temp folder left
    back = R.RewardModel.load(tmp_path / "rm")
    assert (back.kind, back.step_rule, back.max_length) == ("process", "paragraphs", 300)
    assert back.score_steps([PROMPT], [GOOD])[0] == pytest.approx(rm.score_steps([PROMPT], [GOOD])[0], abs=1e-6)
    with pytest.raises(FileNotFoundError, match="not a reward-model folder"):
        R.RewardModel.load(tmp_path)


def test_truncation_keeps_the_end(tiny):
    model, tok = tiny
    rm = R.RewardModel.from_backbone(model, tok, kind="process", max_length=20)
    ids, pos = rm._truncate(list(range(30)), [5, 12, 29])
    assert ids == list(range(10, 30)) and pos == [-1, 2, 19]
    s = rm.score_steps([PROMPT], [GOOD])[0]
    assert len(s) == 3 and s[0] == 0.5  # a step cut away scores the uninformative 0.5


def test_training_learns_separable_outcome(tiny, tmp_path):
    model, tok = tiny
    train = [R.RMExample(PROMPT, GOOD, label=1.0), R.RMExample(PROMPT, BAD, label=0.0)] * 8
    held = [{"prompt": PROMPT, "response": GOOD, "label": 1.0}, {"prompt": PROMPT, "response": BAD, "label": 0.0}]
    cfg = R.RewardModelConfig(lr=3e-3, epochs=3, batch_size=4)
    rm = R.train_reward_model(model, tok, train, "outcome", tmp_path / "orm", cfg, eval_examples=held, progress=False)
    s = rm.last_summary
    assert s["heldout_after"]["accuracy"] == 1.0 and s["heldout_after"]["auc"] == 1.0
    assert s["heldout_after"]["loss"] < s["heldout_before"]["loss"]
    assert s["steps"] == 12  # 16 examples / batch 4 x 3 epochs
    rows = (tmp_path / "orm" / "metrics.jsonl").read_text().splitlines()
    assert len(rows) == 12 + 3  # a row per step + held-out metrics per epoch
    assert (tmp_path / "orm" / "final" / "reward_model.json").is_file()
    assert not (tmp_path / "orm" / "checkpoint").exists()
    # resume of a finished run loads it instead of training again
    again = R.train_reward_model(model, tok, train, "outcome", tmp_path / "orm", cfg, eval_examples=held, resume=True, progress=False)
    assert again.score_outcomes([PROMPT], [GOOD]).tolist() == pytest.approx(rm.score_outcomes([PROMPT], [GOOD]).tolist(), abs=1e-6)


def test_process_training_and_label_checks(tiny, tmp_path):
    model, tok = tiny
    ex = [R.RMExample(PROMPT, GOOD, step_labels=[1, 1, 1]), R.RMExample(PROMPT, BAD, step_labels=[1, 0, 0])] * 4
    cfg = R.RewardModelConfig(lr=3e-3, epochs=12, batch_size=4)
    rm = R.train_reward_model(model, tok, ex, "process", tmp_path / "prm", cfg, eval_examples=ex[:2], progress=False)
    good, bad = rm.score_steps([PROMPT, PROMPT], [GOOD, BAD])
    # every correct step (incl. BAD's first) ranks above every wrong one; the loss went down
    assert min(good + bad[:1]) > max(bad[1:])
    assert rm.last_summary["heldout_after"]["auc"] == 1.0
    assert rm.last_summary["heldout_after"]["loss"] < rm.last_summary["heldout_before"]["loss"]
    with pytest.raises(ValueError, match="example 0: 2 step labels but the response has 3 steps"):
        R.train_reward_model(model, tok, [R.RMExample(PROMPT, GOOD, step_labels=[1, 1])], "process", tmp_path / "x", cfg)
    with pytest.raises(ValueError, match="example 0: label 2.0 is outside"):
        R.train_reward_model(model, tok, [R.RMExample(PROMPT, GOOD, label=2)], "outcome", tmp_path / "x", cfg)
    with pytest.raises(ValueError, match="needs 'label'"):
        R.train_reward_model(model, tok, [R.RMExample(PROMPT, GOOD)], "outcome", tmp_path / "x", cfg)
    with pytest.raises(ValueError, match="unknown field"):
        R.RMExample.from_any({"prompt": "a", "response": "b", "lable": 1})


def test_rm_config_from_rl_section():
    from seekmath.config import load_config

    cfg = load_config("smoke", ["rl.rm_lr=0.001", "rl.step_rule=paragraphs"])
    c = R.rm_config(cfg)
    assert c.lr == 0.001 and c.step_rule == "paragraphs" and c.replay_ratio == cfg.rl.rm_replay_ratio
    assert R.rm_config(None).lr == 2e-5  # the paper's value at 7B


# ---------------------------------------------------------------------------------------------- Math-Shepherd


class ScriptedEngine:
    """Returns prepared completions per prompt suffix (records the queries); stands in for the sampler."""

    def __init__(self, script: dict[str, list[str]]):
        self.script, self.queries = script, []

    def generate(self, prompts, *, n=1, **kw):
        self.queries.append((list(prompts), n, kw))
        out = []
        for p in prompts:
            key = next(k for k in self.script if p.endswith(k))
            out.append([Completion(text=t, finish_reason="eos") for t in self.script[key][:n]])
        return out


def test_math_shepherd_hand_labelled():
    prob = Problem("p1", "Mia has 5 apples and buys 3 more. How many?", "8")
    # step 1 prefix ends "apples.\n": one of two rollouts reaches 8; step 2 prefix ends "= 9 apples.\n": none do
    engine = ScriptedEngine({
        "starts with 5 apples.\n": ["After that she has 8.\nThe answer is \\boxed{8}.", "The answer is \\boxed{7}."],
        "= 9 apples.\n": ["The answer is \\boxed{9}.", "So \\boxed{10}."],
        "= 8 apples.\n": ["The answer is \\boxed{8}.", "The answer is \\boxed{8}."],
    })
    hard = R.math_shepherd_labels(engine, [prob, prob], [BAD, GOOD], rollouts_per_step=2, prompts=[PROMPT, PROMPT], seed=3)
    assert [e.step_labels for e in hard] == [[1.0, 0.0, 0.0], [1.0, 1.0, 1.0]]
    assert [e.label for e in hard] == [0.0, 1.0] and hard[0].gold == "8"
    prompts, n, kw = engine.queries[0]
    assert n == 2 and kw["seed"] == 3 and len(prompts) == 4  # 2 non-final steps x 2 responses, one call
    assert prompts[0] == PROMPT + " Mia starts with 5 apples.\n"
    soft = R.math_shepherd_labels(engine, [prob], [BAD], rollouts_per_step=2, prompts=[PROMPT], estimation="soft")
    assert soft[0].step_labels == [0.5, 0.0, 0.0]
    assert R.math_shepherd_labels(engine, [prob], ["  "], rollouts_per_step=2, prompts=[PROMPT]) == []
    with pytest.raises(ValueError, match="estimation"):
        R.math_shepherd_labels(engine, [prob], [BAD], 2, estimation="medium")


def test_math_shepherd_with_hf_engine(tiny):
    from seekmath.generate import make_engine

    model, tok = tiny
    engine = make_engine("hf", model, tok, batch_size=8)
    prob = Problem("p1", "Mia has 5 apples and buys 3 more. How many?", "8")
    ex = R.math_shepherd_labels(engine, [prob], [GOOD], rollouts_per_step=2, max_new_tokens=4, seed=0)
    assert len(ex) == 1 and len(ex[0].step_labels) == 3 and ex[0].step_labels[-1] == 1.0
    assert all(v in (0.0, 1.0) for v in ex[0].step_labels)


# ---------------------------------------------------------------------------------------------- replay


def test_replay_buffer_ratio_and_determinism(tmp_path):
    buf = R.ReplayBuffer(replay_ratio=0.1, seed=1)
    hist = [R.RMExample("p", f"old {i}", label=0.0) for i in range(100)]
    buf.add(hist)
    fresh = [R.RMExample("p", f"new {i}", label=1.0) for i in range(90)]
    assert buf.n_replay(90) == 10  # 10 / (90 + 10) = 10%
    mixed = buf.mix(fresh)
    assert len(mixed) == 100 and sum(x.response.startswith("old") for x in mixed) == 10
    assert len({x.response for x in mixed}) == 100  # no example twice
    again = R.ReplayBuffer(replay_ratio=0.1, seed=1)
    again.add(hist)
    assert [x.response for x in again.mix(fresh)] == [x.response for x in mixed]
    small = R.ReplayBuffer(0.1)
    small.add(hist[:3])
    assert small.n_replay(90) == 3  # capped by what the buffer holds
    assert R.ReplayBuffer(0.1).mix(fresh) == fresh  # nothing to replay in round 1
    buf.save(tmp_path / "buf.json")
    loaded = R.ReplayBuffer.load(tmp_path / "buf.json")
    assert len(loaded) == 100 and loaded.rounds == 1
    with pytest.raises(ValueError, match="replay_ratio"):
        R.ReplayBuffer(1.0)


def test_replay_buffer_capacity_reservoir():
    buf = R.ReplayBuffer(0.1, capacity=10, seed=0)
    buf.add([R.RMExample("p", str(i), label=1.0) for i in range(1000)])
    assert len(buf) == 10 and buf.seen == 1000
    assert max(int(x.response) for x in buf.items) >= 10  # later examples got in


def test_continue_training_mixes_history(tiny, tmp_path):
    model, tok = tiny
    cfg = R.RewardModelConfig(lr=1e-3, batch_size=8, eval_fraction=0.0)
    buf = R.ReplayBuffer(0.1)
    first = [R.RMExample(PROMPT, GOOD, label=1.0), R.RMExample(PROMPT, BAD, label=0.0)] * 5
    rm = R.train_reward_model(model, tok, first, "outcome", tmp_path / "r0", cfg, progress=False)
    buf.add(first)
    fresh = [R.RMExample(PROMPT, GOOD + " ", label=1.0)] * 18
    rm2 = R.continue_training(rm, fresh, buf, tmp_path / "r1", cfg, progress=False)
    assert rm2 is rm and len(buf) == 28
    assert rm.last_summary["train"] == 20  # 18 fresh + 2 replayed (10%)


# ---------------------------------------------------------------------------------------------- RFT


def test_rft_dataset_keeps_correct_dedupes(tmp_path):
    probs = [Problem("a", "Q1?", "8"), Problem("b", "Q2?", "3")]
    engine = ScriptedEngine({
        "Q1?" + "\nPlease reason step by step, and put your final answer within \\boxed{}.\n\nAssistant:":
            [" So \\boxed{8}.", " So  \\boxed{8}. ", " \\boxed{9}", " Hence \\boxed{8}."],
        "Q2?" + "\nPlease reason step by step, and put your final answer within \\boxed{}.\n\nAssistant:":
            [" \\boxed{4}"] * 4,
    })
    rows = rft_dataset(engine, probs, 4, out_path=tmp_path / "rft.jsonl", temperature=0.7)
    assert [r["completion"] for r in rows] == [" So \\boxed{8}.", " Hence \\boxed{8}."]
    assert all(r["id"] == "a" and r["prompt"].startswith("User: Q1?") for r in rows)
    assert len((tmp_path / "rft.jsonl").read_text().splitlines()) == 2
    assert engine.queries[0][2]["temperature"] == 0.7
