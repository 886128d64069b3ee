import subprocess
import sys
from pathlib import Path

VENV_BIN = Path(sys.executable).parent


def seekmath(*args, **kw):
    exe = VENV_BIN / "seekmath"
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "seekmath"]
    return subprocess.run(cmd + list(args), capture_output=True, text=True, timeout=300, **kw)


def test_help_lists_subcommands():
    r = seekmath("--help")
    assert r.returncode == 0
    for sub in ["corpus", "pretrain", "sft", "rl", "eval", "grade", "run", "report", "config"]:
        assert f"\n  {sub} " in r.stdout


def test_unknown_command():
    r = seekmath("evla")
    assert r.returncode == 2 and "did you mean 'eval'" in r.stderr


def test_config_show_and_errors():
    r = seekmath("config", "show", "smoke", "rl.beta=0.5")
    assert r.returncode == 0 and "beta: 0.5" in r.stdout and "name: smoke" in r.stdout
    r = seekmath("config", "show", "tiny", "rl.betta=1")
    assert r.returncode == 2 and "rl.betta" in r.stderr and "rl.beta" in r.stderr
    r = seekmath("config", "list")
    assert "deepseekmath-7b" in r.stdout.split()


def test_model_init(tmp_path):
    r = seekmath("model", "init", "--config", "smoke", "--out", str(tmp_path / "m"))
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "m" / "model.safetensors").is_file() and (tmp_path / "m" / "tokenizer.json").is_file()


def test_grade_does_not_import_the_config(tmp_path):
    """`seekmath grade` never loads a config: its cold call must not pay for importing seekmath.config
    (every stage's settings and yaml, ~0.1 s). A config error still ends in one line, exit 2 (above)."""
    inp = tmp_path / "in.jsonl"
    inp.write_text('{"response": "so \\\\boxed{2}", "gold": "2"}\n')
    code = ("import sys; from seekmath.cli import main; "
            f"rc = main(['grade', '--input', {str(inp)!r}, '--output', {str(tmp_path / 'out.jsonl')!r}]); "
            "print(rc, sorted(m for m in ('seekmath.config', 'seekmath.tasks.loaders', 'yaml') if m in sys.modules))")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split("\n")[-2] == "0 []"
    assert '"verdict": "correct"' in (tmp_path / "out.jsonl").read_text()
