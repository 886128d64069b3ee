"""`make bench`: run every comparison against a peer and write one markdown table of ratios.

Each script under bench/ measures seekmath and the peer in the same run and prints its own table;
this runner keeps each script's full output in `bench/results/<name>.txt` and pulls out the ratio
line(s) into `bench/results/summary.md` (with machine, date and versions), also printed at the end.

    .venv/bin/python bench/run_all.py [--only grading,generate] [--timeout 900]
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.metadata as md
import os
import platform
import re
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"

# name -> (script and args, peer, [(what, regex with one float group, goal)], which way is better)
BENCHES: dict[str, tuple[list[str], str, list[tuple[str, str, str]]]] = {
    "grading": (["grading_vs_mathverify.py", "--repeats", "2"], "math-verify 0.9 (parse+verify)",
                [("grading throughput, 800 real MATH responses", r"throughput ratio seekmath / math-verify: ([\d.]+)x", ">= 1x")]),
    "generate": (["generate_vs_hf.py", "--repeats", "2"], "transformers model.generate",
                 [("generation tokens/s, one sample per prompt", r"^\d+ prompts x 1\s+\d+\s+\d+\s+([\d.]+)\s*$", ">= 2x"),
                  ("generation tokens/s, groups of n samples", r"^\d+ prompts x (?:[2-9]|\d\d+)\s+\d+\s+\d+\s+([\d.]+)\s*$", ">= 2x")]),
    "corpus": (["corpus_vs_peers.py", "--repeat", "2"], "raw fastText predict / datatrove 0.10",
               [("fastText scoring in the pipeline vs raw predict", r'"scoring_ratio": ([\d.]+)', ">= 0.8x"),
                ("WARC -> extract -> fastText -> jsonl, end to end", r'"end_to_end_ratio": ([\d.]+)', ">= 1.5x")]),
    "train": (["train_vs_hf_trainer.py"], "HF Trainer",
              [("training tokens/s (tiny model, packed rows)", r"ratio seekmath / HF Trainer: ([\d.]+)x", ">= 1x")]),
    "grpo": (["grpo_vs_trl.py"], "TRL GRPOTrainer",
             [("GRPO seconds per step (lower is better)", r"seekmath/TRL time per step: ([\d.]+)", "<= 0.5x")]),
}


def versions() -> str:
    pkgs = ["torch", "transformers", "trl", "datatrove", "math-verify", "fasttext-numpy2", "ray"]
    out = []
    for p in pkgs:
        try:
            out.append(f"{p} {md.version(p)}")
        except md.PackageNotFoundError:
            pass
    return ", ".join(out)


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{os.cpu_count()} cores, {cpu}, Python {platform.python_version()}"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--only", default="", help="comma-separated subset of: " + ", ".join(BENCHES))
    ap.add_argument("--timeout", type=int, default=900, help="seconds per script")
    args = ap.parse_args()
    names = [n for n in BENCHES if not args.only or n in args.only.split(",")]
    RESULTS.mkdir(exist_ok=True)
    rows = []
    for name in names:
        script, peer, checks = BENCHES[name]
        print(f"== {name}: {' '.join(script)}", flush=True)
        t0 = time.time()
        try:
            r = subprocess.run([sys.executable, str(HERE / script[0]), *script[1:]], capture_output=True, text=True,
                               timeout=args.timeout, cwd=HERE.parent)
            output, status = r.stdout + ("\n" + r.stderr[-3000:] if r.returncode else ""), ("ok" if r.returncode == 0 else f"exit {r.returncode}")
        except subprocess.TimeoutExpired as e:
            output, status = (e.stdout or b"").decode() if isinstance(e.stdout, bytes) else (e.stdout or ""), "timeout"
        seconds = time.time() - t0
        (RESULTS / f"{name}.txt").write_text(output)
        print(output[-2500:], flush=True)
        for what, pattern, goal in checks:
            m = re.findall(pattern, output, flags=re.M)
            ratio = m[-1] if m else "–"
            rows.append((what, peer, f"{float(ratio):.2f}x" if m else "–", goal, status, f"{seconds:.0f}"))
    table = ["| comparison | peer | seekmath / peer | goal | run | seconds |", "|---|---|---|---|---|---|"]
    table += [f"| {' | '.join(r)} |" for r in rows]
    header = [f"# seekmath benchmarks against peers", "",
              f"Machine: {machine()}. Date: {dt.date.today().isoformat()}. Versions: {versions()}.", "",
              "Each ratio is measured in one run of the script, peer and seekmath side by side (full outputs in "
              "`bench/results/<name>.txt`).", ""]
    text = "\n".join(header + table) + "\n"
    (RESULTS / "summary.md").write_text(text)
    print("\n" + text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
