"""Run folders, atomic writes and metrics logging shared by every stage.

Layout: `runs/<run-name>/<stage>/` holds `config.yaml` (the resolved config), `metrics.jsonl`,
`tb/` (TensorBoard events), `log.txt`, checkpoints and the stage's outputs. Every file a later step
reads is written atomically (temp file in the same folder, fsync, rename), so a crash leaves either
the old file or the new one, never half of one.
"""

from __future__ import annotations

import contextlib
import gzip
import json
import logging
import math
import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any, Iterator

log = logging.getLogger("seekmath")


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


_FILE_MODE = 0o666 & ~_umask()  # what open() would give; mkstemp's 0600 would hide outputs from other users


def atomic_write_bytes(path: str | Path, data: bytes) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, _FILE_MODE)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    return path


def atomic_write_text(path: str | Path, text: str) -> Path:
    return atomic_write_bytes(path, text.encode("utf-8"))


def _json_default(obj: Any) -> Any:
    if hasattr(obj, "item"):  # numpy / torch scalars
        return obj.item()
    if isinstance(obj, Path):
        return str(obj)
    if isinstance(obj, (set, frozenset)):
        return sorted(obj)
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")


def to_json(obj: Any, indent: int | None = 2) -> str:
    return json.dumps(obj, indent=indent, ensure_ascii=False, default=_json_default)


def atomic_write_json(path: str | Path, obj: Any) -> Path:
    return atomic_write_text(path, to_json(obj) + "\n")


def atomic_write_jsonl(path: str | Path, rows: Any) -> Path:
    return atomic_write_text(path, "".join(to_json(r, indent=None) + "\n" for r in rows))


def iter_jsonl(path: str | Path, error: type[Exception] = ValueError) -> Iterator[tuple[int, Any]]:
    """(line number, parsed value) for each non-blank line of a jsonl or jsonl.gz file.

    A malformed line raises `error` naming the file and the line, so every reader reports bad input alike.
    """
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                yield lineno, json.loads(line)
            except json.JSONDecodeError as e:
                raise error(f"{path}:{lineno}: malformed JSON line ({e.msg})") from None


def read_jsonl(path: str | Path) -> list:
    """Read a jsonl(.gz) file; a malformed line fails with the file and line number."""
    return [row for _, row in iter_jsonl(path)]


@contextlib.contextmanager
def atomic_dir(path: str | Path) -> Iterator[Path]:
    """Yield a temp folder beside `path`; on success it replaces `path` in one rename."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent))
    os.chmod(tmp, 0o777 & ~_umask())
    try:
        yield tmp
        if path.exists():
            old = path.with_name(f".{path.name}.old-{os.getpid()}-{time.monotonic_ns()}")
            os.replace(path, old)
            os.replace(tmp, path)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


class MetricsLogger:
    """Append-only `metrics.jsonl` (one JSON object per step) plus TensorBoard scalars.

    On resume, pass `resume_from_step`: lines at or after that step are dropped first, so the file
    never holds a step twice.
    """

    def __init__(self, out_dir: str | Path, tensorboard: bool = True, resume_from_step: int | None = None):
        self.out_dir = Path(out_dir)
        self.out_dir.mkdir(parents=True, exist_ok=True)
        self.path = self.out_dir / "metrics.jsonl"
        if resume_from_step is not None and self.path.exists():
            kept = [r for r in read_jsonl(self.path) if r.get("step", -1) < resume_from_step]
            atomic_write_jsonl(self.path, kept)
        elif resume_from_step is None and self.path.exists():
            self.path.unlink()
        self._f = open(self.path, "a", encoding="utf-8")
        self._tb = None
        if tensorboard:
            try:
                from torch.utils.tensorboard import SummaryWriter

                self._tb = SummaryWriter(log_dir=str(self.out_dir / "tb"))
            except Exception as e:  # tensorboard missing or broken: metrics.jsonl still has everything
                log.warning("TensorBoard logging disabled: %s", e)

    def log(self, step: int, **metrics: Any) -> None:
        row = {"step": int(step), "time": round(time.time(), 3)}
        for k, v in metrics.items():
            if hasattr(v, "item"):
                v = v.item()
            row[k] = v
        self._f.write(to_json(row, indent=None) + "\n")
        self._f.flush()
        if self._tb is not None:
            for k, v in row.items():
                if k not in ("step", "time") and isinstance(v, (int, float)) and not isinstance(v, bool):
                    if math.isfinite(v):
                        self._tb.add_scalar(k, v, step)

    def close(self) -> None:
        self._f.close()
        if self._tb is not None:
            self._tb.flush()
            self._tb.close()

    def __enter__(self) -> "MetricsLogger":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def read_metrics(path: str | Path) -> list[dict]:
    path = Path(path)
    if path.is_dir():
        path = path / "metrics.jsonl"
    return read_jsonl(path) if path.exists() else []


def prepare_stage_dir(out_dir: str | Path, cfg: Any = None) -> Path:
    """Create a stage folder, write its resolved `config.yaml`, and add a `log.txt` log handler."""
    from seekmath.config import dump_config

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    if cfg is not None:
        atomic_write_text(out / "config.yaml", dump_config(cfg))
    handler = logging.FileHandler(out / "log.txt", encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger("seekmath")
    for h in list(root.handlers):
        if isinstance(h, logging.FileHandler) and getattr(h, "_seekmath_stage", False):
            root.removeHandler(h)
            h.close()
    handler._seekmath_stage = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    return out


def set_threads(n: int) -> None:
    """Use n torch threads (0 = all cores)."""
    import torch

    if n and n > 0:
        torch.set_num_threads(n)
