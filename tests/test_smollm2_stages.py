"""Each stage for a few steps on a real checkpoint: SmolLM2-135M-Instruct (`make smollm2`), prompted
with its own chat template. Slow (minutes on 2 cores)."""

import json

import pytest
from real_models import smollm2_dir

from seekmath.cli import main

pytestmark = pytest.mark.slow


def test_eval_gsm8k_with_its_chat_template(tmp_path, shared_data):
    d = smollm2_dir()
    assert main(["eval", "--config", "smollm2-135m", "--model", str(d), "--bench", "gsm8k", "--limit", "2",
                 "--out", str(tmp_path / "e"), "eval.max_new_tokens=24", "eval.threads=1"]) == 0
    entry = json.loads((tmp_path / "e" / "summary.json").read_text())["gsm8k"]
    assert entry["n"] == 2 and entry["prompt_format"] == "auto" and entry["new_tokens"] > 0
    rec = json.loads((tmp_path / "e" / "samples.jsonl").read_text().splitlines()[0])
    assert rec["prompt"].startswith("<|im_start|>system\n") and rec["prompt"].endswith("<|im_start|>assistant\n")


def test_sft_then_grpo_steps(tmp_path):
    d = smollm2_dir()
    common = ["--config", "smollm2-135m", "run.threads=1"]
    assert main(["sft", "--model", str(d), "--out", str(tmp_path / "sft"), *common, "sft.max_steps=2",
                 "sft.batch_size=2", "sft.eval_every=0", "sft.num_examples=16", "sft.eval_documents=4",
                 "sft.eval_sequences=2"]) == 0
    sft = tmp_path / "sft" / "final"
    assert (sft / "config.json").is_file() and (sft / "chat_template.jinja").is_file()
    assert main(["rl", "--model", str(sft), "--out", str(tmp_path / "rl"), *common, "rl.steps=1", "rl.group_size=2",
                 "rl.prompts_per_step=2", "rl.max_new_tokens=24", "rl.eval_problems=2", "rl.threads=1"]) == 0
    rows = [json.loads(x) for x in (tmp_path / "rl" / "metrics.jsonl").read_text().splitlines()]
    assert any("reward_mean" in r for r in rows)
