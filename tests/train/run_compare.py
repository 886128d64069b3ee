"""Compare two trainer runs (the assertion the accumulation and multi-process tests share)."""

from pathlib import Path

from safetensors.torch import load_file

from seekmath.runs import read_metrics


def steps(out: Path) -> list[dict]:
    return [r for r in read_metrics(out) if "loss" in r]


def weights(out: Path) -> dict:
    return load_file(str(out / "final" / "model.safetensors"))


def assert_same_training(a: Path, b: Path, tol: float = 1e-5) -> dict:
    """Same losses, same pre-clip gradient norms (relative) and same final weights (absolute) within tol.

    Comparing only losses would pass a missing `x world` or `/ accumulation`: Adam ignores a constant
    gradient scale and clipping hides the rest; the gradient norm does not."""
    ra, rb = steps(a), steps(b)
    assert [r["step"] for r in ra] == [r["step"] for r in rb] and ra
    for x, y in zip(ra, rb):
        assert abs(x["loss"] - y["loss"]) < tol, (x["step"], x["loss"], y["loss"])
        assert abs(x["grad_norm"] - y["grad_norm"]) <= tol * y["grad_norm"], (x["step"], x["grad_norm"], y["grad_norm"])
    wa, wb = weights(a), weights(b)
    assert wa.keys() == wb.keys()
    diff = max(float((wa[k] - wb[k]).abs().max()) for k in wa)
    assert diff < tol, f"max weight difference {diff:.3g}"
    gn = max(abs(x["grad_norm"] - y["grad_norm"]) / y["grad_norm"] for x, y in zip(ra, rb))
    print(f"{a.name} vs {b.name}: max weight diff {diff:.3g}, max relative grad-norm diff {gn:.3g}")
    return {"weight_diff": diff, "grad_norm_rel_diff": gn}
