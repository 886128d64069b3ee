"""`seekmath rl --config smoke` end to end through the CLI, and its error paths."""

import json


from seekmath.cli import main


def test_cli_smoke_end_to_end(tiny_model_dir, tmp_path, capsys):
    out = tmp_path / "rl"
    rc = main(["rl", "--config", "smoke", "--model", str(tiny_model_dir), "--out", str(out), "rl.threads=1"])
    assert rc == 0
    assert (out / "final" / "model.safetensors").is_file() and (out / "final" / "tokenizer.json").is_file()
    rows = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    steps = [r for r in rows if "reward_mean" in r]
    assert [r["step"] for r in steps] == [1, 2]
    for key in ("reward_mean", "reward_std", "accuracy", "kl", "entropy", "response_length", "clip_fraction",
                "zero_variance_groups", "seconds_generation", "seconds_training"):
        assert key in steps[0], key
    assert "eval_greedy_acc" in rows[0] and "eval_greedy_acc" in rows[-1]
    assert (out / "curves.png").is_file() and (out / "config.yaml").is_file() and (out / "tb").is_dir()
    assert not (out / "checkpoints").exists()  # removed once final/ is written
    assert str(out / "final") in capsys.readouterr().out
    # resuming a finished run is a no-op that points at final/
    assert main(["rl", "--config", "smoke", "--model", str(tiny_model_dir), "--out", str(out), "--resume"]) == 0


def test_cli_errors(tiny_model_dir, tmp_path, capsys):
    assert main(["rl", "--config", "smoke", "--model", str(tmp_path / "nope"), "--out", str(tmp_path / "o")]) == 2
    assert "not a model folder" in capsys.readouterr().err
    assert main(["rl", "--config", "smoke", "--model", str(tiny_model_dir), "--out", str(tmp_path / "o"), "rl.reward=human"]) == 2
    assert "rl.reward" in capsys.readouterr().err
