"""Benchmark loaders: one name -> a list of `Problem`s.

Sources, tried in this order for a name:
1. `synthetic` (the generated task; needs no files);
2. a local jsonl/parquet path;
3. a known benchmark name, read from the benchmark data folder — `$SEEKMATH_DATA_DIR`, else the first
   `shared/data/bench` found beside or above the working directory (the layout of this project's
   checkout);
4. a Hugging Face `datasets` name (`openai/gsm8k`, `hendrycks/competition_math`, …), online only.
"""

from __future__ import annotations

import ast
import os
from pathlib import Path
from typing import Any, Callable

from seekmath.evaluate.boxed import last_boxed
from seekmath.runs import iter_jsonl
from seekmath.tasks.records import Problem


class TaskError(ValueError):
    """A task source that cannot be loaded; the message says which and why."""


def _gsm8k_answer(text: str) -> tuple[str, str]:
    if "####" not in text:
        raise ValueError("no '####' answer marker")
    sol, ans = text.rsplit("####", 1)
    return ans.strip().replace(",", ""), sol.strip()


def _maybe_list(v: Any) -> Any:
    if isinstance(v, str) and v.startswith("["):
        try:
            return ast.literal_eval(v)  # data files only (never model text)
        except (ValueError, SyntaxError):
            return v
    return v


def _choices_text(options: Any) -> tuple[str, list[str]]:
    options = _maybe_list(options)
    if isinstance(options, list):
        letters = "ABCDEFGH"
        opts = [str(o) for o in options]
        if all(o.startswith("(") and len(o) > 2 and o[2] == ")" for o in opts):  # already lettered
            return "  ".join(opts), opts
        return ", ".join(f"({letters[i]}) {o}" for i, o in enumerate(opts)), opts
    return str(options or ""), [str(options or "")]


def _parse_gsm8k(d: dict, i: int) -> Problem:
    if "cot" in d:  # DeepSeek's copy: answer already extracted
        return Problem(str(d.get("id", i)), d["question"], str(d["answer"]), d.get("cot"), "gsm8k")
    ans, sol = _gsm8k_answer(d["answer"])
    return Problem(str(d.get("id", i)), d["question"], ans, sol, "gsm8k")


def _parse_math(d: dict, i: int) -> Problem:
    ans = d.get("answer")
    if ans is None:
        ans = last_boxed(d["solution"])
        if ans is None:
            raise ValueError("no answer field and no \\boxed{} in the solution")
    meta = {k: d[k] for k in ("subject", "level", "type") if k in d}
    return Problem(str(d.get("unique_id", d.get("id", i))), d["problem"], str(ans), d.get("solution"), "math", meta)


def _parse_minerva(d: dict, i: int) -> Problem:
    ans = d.get("answer")
    if ans is None:
        ans = last_boxed(d.get("solution", "")) or ""
    return Problem(str(d.get("id", d.get("idx", i))), d["problem"], str(ans), d.get("solution"), "ocw")


def _parse_choice(source: str) -> Callable[[dict, int], Problem]:
    def parse(d: dict, i: int) -> Problem:
        text, opts = _choices_text(d.get("options"))
        gold = d.get("answer") or d.get("Answer") or d.get("label")
        return Problem(str(d.get("id", i)), d["question"], str(gold).strip(), None, source,
                       {"options": opts, "options_text": text, **({"topic": d["topic"]} if "topic" in d else {})})
    return parse


def _parse_cmath(d: dict, i: int) -> Problem:
    return Problem(str(d.get("id", i)), d["question"], str(d["golden"]), None, "cmath",
                   {k: d[k] for k in ("grade", "reasoning_step", "num_digits") if k in d})


def _parse_mgsm(d: dict, i: int) -> Problem:
    q = d["question"] if "question" in d else next(m["content"] for m in d["messages"] if m["role"] == "user")
    return Problem(str(d.get("id", i)), q, str(d["answer"]), None, "mgsm_zh")


def _parse_gaokao_cloze(d: dict, i: int) -> Problem:
    return Problem(str(d.get("id", i)), d["question"], str(d["answer"]), None, "gaokao_mathcloze")


def _parse_gaokao_qa(d: dict, i: int) -> Problem:
    text, opts = _choices_text(d.get("options"))
    return Problem(str(d.get("id", i)), d["question"], str(d["label"]), None, "gaokao_mathqa",
                   {"options": opts, "options_text": text})


def _num(v: Any) -> str:
    s = str(v).strip()
    if s.endswith(".0"):
        s = s[:-2]
    return s


def _parse_svamp(d: dict, i: int) -> Problem:
    q = (d["Body"].rstrip() + " " + d["Question"]).strip()
    return Problem(str(d.get("ID", i)), q, _num(d["Answer"]), None, "svamp", {"equation": d.get("Equation")})


def _parse_asdiv(d: dict, i: int) -> Problem:
    q = (d["body"].rstrip() + " " + d["question"]).strip()
    ans = str(d["answer"]).split(" (")[0].strip()
    return Problem(str(d.get("idx", i)), q, ans, None, "asdiv", {"formula": d.get("formula")})


def _parse_competition(source: str) -> Callable[[dict, int], Problem]:
    def parse(d: dict, i: int) -> Problem:
        q = d.get("problem") or d["question"]
        return Problem(str(d.get("id", i)), q, _num(d["answer"]), d.get("solution"), source)
    return parse


def _parse_olympiad(d: dict, i: int) -> Problem:
    ans = _maybe_list(d["final_answer"])
    ans = ", ".join(ans) if isinstance(ans, list) else str(ans)
    return Problem(str(d.get("id", i)), d["question"], ans.strip("$ "), None, "olympiadbench",
                   {k: d[k] for k in ("subfield", "answer_type", "unit") if d.get(k) is not None})


def _parse_college(d: dict, i: int) -> Problem:
    return Problem(str(d.get("question_number", i)), d["question"], str(d["answer"]).strip("$ "), None, "college_math",
                   {"topic": d.get("data_topic")})


def _parse_generic(d: dict, i: int) -> Problem:
    """Local files: {question|problem, answer|gold, solution?, id?}; GSM8K's '####' is understood."""
    q = d.get("question") or d.get("problem")
    if q is None:
        raise ValueError("needs a 'question' or 'problem' field")
    ans = d.get("answer", d.get("gold"))
    sol = d.get("solution")
    if isinstance(ans, str) and "####" in ans:
        ans, sol = _gsm8k_answer(ans)
    if ans is None and sol:
        ans = last_boxed(sol)
    if ans is None:
        raise ValueError("needs an 'answer' field (or a solution with \\boxed{})")
    return Problem(str(d.get("id", i)), q, str(ans), sol, d.get("source", "local"), d.get("metadata") or {})


# name -> (path under the bench data folder, parser, HF fallback (name, config, split))
BENCHMARKS: dict[str, tuple[str, Callable[[dict, int], Problem], tuple | None]] = {
    "gsm8k": ("openai_grade-school-math/test.jsonl", _parse_gsm8k, ("openai/gsm8k", "main", "test")),
    "gsm8k_train": ("openai_grade-school-math/train.jsonl", _parse_gsm8k, ("openai/gsm8k", "main", "train")),
    "math500": ("openai_prm800k_math500/test.jsonl", _parse_math, ("HuggingFaceH4/MATH-500", None, "test")),
    "math": ("", _parse_math, ("EleutherAI/hendrycks_math", None, "test")),
    # MATH's 7,500 training problems (Hendrycks et al.), the paper's RL questions with GSM8K's train split
    "math_train": ("hendrycks_math/train.jsonl", _parse_math, ("DigitalLearningGmbH/MATH-lighteval", "default", "train")),
    "ocw": ("deepseek-ai_DeepSeek-Math/ocw/test.jsonl", _parse_minerva, None),
    "sat": ("deepseek-ai_DeepSeek-Math/sat/test.jsonl", _parse_choice("sat"), None),
    "mmlu_stem": ("deepseek-ai_DeepSeek-Math/mmlu_stem/test.jsonl", _parse_choice("mmlu_stem"), None),
    "cmath": ("deepseek-ai_DeepSeek-Math/cmath/test.jsonl", _parse_cmath, None),
    "mgsm_zh": ("deepseek-ai_DeepSeek-Math/mgsm_zh/mgsm_zh.jsonl", _parse_mgsm, None),
    "gaokao_mathcloze": ("deepseek-ai_DeepSeek-Math/agieval/gaokao-mathcloze.jsonl", _parse_gaokao_cloze, None),
    "gaokao_mathqa": ("deepseek-ai_DeepSeek-Math/agieval/gaokao-mathqa.jsonl", _parse_gaokao_qa, None),
    "svamp": ("QwenLM_Qwen2.5-Math/svamp/test.jsonl", _parse_svamp, None),
    "asdiv": ("QwenLM_Qwen2.5-Math/asdiv/test.jsonl", _parse_asdiv, None),
    "aime24": ("QwenLM_Qwen2.5-Math/aime24/test.jsonl", _parse_competition("aime24"), None),
    "amc23": ("QwenLM_Qwen2.5-Math/amc23/test.jsonl", _parse_competition("amc23"), None),
    "olympiadbench": ("QwenLM_Qwen2.5-Math/olympiadbench/test.jsonl", _parse_olympiad, None),
    "college_math": ("QwenLM_Qwen2.5-Math/college_math/test.jsonl", _parse_college, None),
    "minerva_math": ("QwenLM_Qwen2.5-Math/minerva_math/test.jsonl", _parse_minerva, None),
}
# the parser a loaded HF dataset goes through, by its name
_HF_PARSERS = {spec[2][0]: spec[1] for spec in BENCHMARKS.values() if spec[2]}


def bench_data_dir() -> Path | None:
    env = os.environ.get("SEEKMATH_DATA_DIR")
    if env:
        return Path(env)
    here = Path.cwd().resolve()
    for d in [here, *here.parents]:
        for cand in (d / "shared" / "data" / "bench", d.parent / "shared" / "data" / "bench"):
            if cand.is_dir():
                return cand
    return None


def local_benchmark_file(name: str) -> Path | None:
    """The local file of a named benchmark (under `bench_data_dir()`), or None when it is not here.

    For callers that must stay offline (the demo crawl, decontamination, the recipe's real-benchmark
    evaluation): `load_problems` would fall back to downloading the HF dataset instead.
    """
    if name not in BENCHMARKS:
        return None
    rel = BENCHMARKS[name][0]
    root = bench_data_dir()
    if not rel or root is None or not (root / rel).is_file():
        return None
    return root / rel


def _read_records(path: Path) -> list[dict]:
    if path.suffix == ".parquet":
        import pyarrow.parquet as pq

        return pq.read_table(path).to_pylist()
    return [row for _, row in iter_jsonl(path, error=TaskError)]


def _parse_all(rows: list[dict], parse: Callable[[dict, int], Problem], where: str) -> list[Problem]:
    out = []
    for i, row in enumerate(rows):
        try:
            out.append(parse(row, i))
        except (KeyError, ValueError, TypeError) as e:
            raise TaskError(f"{where}:{i + 1}: malformed record ({type(e).__name__}: {e})") from e
    return out


def load_file(path: str | Path, parse: Callable[[dict, int], Problem] = _parse_generic) -> list[Problem]:
    path = Path(path)
    if not path.is_file():
        raise TaskError(f"task file not found: {path}")
    return _parse_all(_read_records(path), parse, str(path))


def load_hf(name: str, config: str | None = None, split: str = "test") -> list[Problem]:
    try:
        import datasets

        ds = datasets.load_dataset(name, config, split=split)
    except Exception as e:
        raise TaskError(f"could not load HF dataset {name!r} (split {split!r}): {type(e).__name__}: {e}") from e
    return _parse_all(list(ds), _HF_PARSERS.get(name, _parse_generic), f"hf:{name}")


def load_problems(name: str, limit: int | None = None, tasks_cfg=None, split: str = "test") -> list[Problem]:
    """Problems of a benchmark name, a local file, or an HF dataset name; first `limit` if given."""
    if name == "synthetic":
        from seekmath.config import TasksConfig
        from seekmath.tasks.synthetic import generate_problems, split_size

        cfg = tasks_cfg or TasksConfig()  # split: train | tune (tuning) | test (report)
        return generate_problems(cfg, split, limit or split_size(cfg, split))
    path = Path(name)
    if path.suffix in (".jsonl", ".json", ".parquet") or path.is_file():
        probs = load_file(path)
    elif name in BENCHMARKS:
        rel, parse, hf = BENCHMARKS[name]
        local = local_benchmark_file(name)
        if local is not None:
            probs = load_file(local, parse)
        elif hf is not None:
            try:
                probs = load_hf(*hf)
            except TaskError as e:  # say both ways to get it
                where = f"$SEEKMATH_DATA_DIR/{rel}" if rel else "a local jsonl (pass its path instead of the name)"
                raise TaskError(f"benchmark {name!r}: no local file ({where}) and {e}; put the file there or allow "
                                "the one-time download (HF_DATASETS_OFFLINE=0, network access)") from None
        else:
            raise TaskError(
                f"benchmark {name!r}: file {rel!r} not found (set SEEKMATH_DATA_DIR to the folder holding it)"
            )
    elif "/" in name:
        probs = load_hf(name)
    else:
        import difflib

        close = difflib.get_close_matches(name, list(BENCHMARKS) + ["synthetic"], n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise TaskError(f"unknown benchmark {name!r}{hint} (known: synthetic, {', '.join(BENCHMARKS)})")
    return probs[:limit] if limit else probs
