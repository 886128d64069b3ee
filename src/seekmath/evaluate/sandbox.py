"""Run model-written Python (program-of-thought, tool calls) in a contained child process.

The paper's executor (spec §5.6) runs snippets with `exec` in a process pool under a 10 s timeout and
nothing else. Here every snippet runs in a fresh `python -I` child, and what is enforced is:

| threat                      | enforced by                                                                  |
|-----------------------------|------------------------------------------------------------------------------|
| infinite loop               | RLIMIT_CPU (SIGXCPU/SIGKILL) + a wall-clock timeout that kills the process group |
| memory bomb                 | RLIMIT_AS (allocation fails with MemoryError, or the child dies)             |
| fork bomb                   | an audit hook refuses fork/exec/spawn/system/subprocess; RLIMIT_NPROC (counted per |
|                             | user; the kernel exempts root, so it binds only for non-root users); a new PID |
|                             | namespace (`unshare -p --kill-child`) whose processes all die with the runner; |
|                             | and killpg of the child's session at the end                                 |
| huge output / disk filling  | RLIMIT_FSIZE; stdout/stderr go to files inside the sandbox dir; reads capped  |
| network                     | a new, empty network namespace (`unshare -n`, with `-r` when not root) when the |
|                             | kernel allows it; always also                                                |
|                             | `socket.socket` replaced and socket audit events refused inside the child    |
| writes outside the sandbox  | cwd = a throw-away temp dir (deleted afterwards); an audit hook refuses opens for writing, |
|                             | renames, removals, mkdir, chmod, ... of paths outside it, and ctypes/dlopen  |
| reading stdin               | stdin is /dev/null                                                           |

Audit hooks are defence in depth, not a security boundary (native code could bypass them); the hard
boundaries are the resource limits, the network namespace and process-group killing. For untrusted
code at scale, run the whole evaluation in a container as well.

Output handling follows DeepSeek-Math's tool-integrated protocol: stdout longer than 100 characters is
cut to its first 50 + "..." + last 50; errors become "Runtime errors: <last line>" cut the same way
(by whitespace tokens).
"""

from __future__ import annotations

import functools
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

# The child's bootstrap: installs the guards, then runs the snippet and (PAL modes) records the result.
_RUNNER = r'''
import sys, os, resource
_sandbox = os.path.realpath(os.getcwd())
_mode = sys.argv[1]
_cpu, _mem, _nproc, _fsize = (int(x) for x in sys.argv[2:6])
# Hard limits, set before any model code runs (the code cannot raise them again).
resource.setrlimit(resource.RLIMIT_CPU, (_cpu, _cpu + 1))
resource.setrlimit(resource.RLIMIT_AS, (_mem, _mem))
resource.setrlimit(resource.RLIMIT_FSIZE, (_fsize, _fsize))
resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
resource.setrlimit(resource.RLIMIT_NPROC, (_nproc, _nproc))

def _inside(path):
    try:
        p = os.path.realpath(os.fsdecode(path) if not isinstance(path, int) else "/proc/self/fd/%d" % path)
    except Exception:
        return False
    return p == _sandbox or p.startswith(_sandbox + os.sep) or p in ("/dev/null",)

_WRITE_EVENTS = {"os.remove", "os.rename", "os.rmdir", "os.mkdir", "os.chmod", "os.chown", "os.link",
                 "os.symlink", "os.truncate", "os.utime", "shutil.rmtree", "shutil.copyfile", "shutil.move",
                 "os.replace", "shutil.chown"}
_PROCESS_EVENTS = {"os.fork", "os.forkpty", "os.exec", "os.posix_spawn", "os.spawn", "os.system",
                   "subprocess.Popen", "os.kill", "os.killpg", "os.setuid", "os.setgid"}

def _hook(event, args):
    if event.startswith("socket."):
        raise PermissionError("sandbox: network access is disabled (%s)" % event)
    if event in _PROCESS_EVENTS:
        raise PermissionError("sandbox: starting processes is disabled (%s)" % event)
    if event == "open":
        path, mode, flags = args[0], args[1], args[2]
        writing = (mode is not None and any(c in str(mode) for c in "wax+")) or (
            isinstance(flags, int) and flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND))
        if writing and path is not None and not _inside(path):
            raise PermissionError("sandbox: writing outside the sandbox directory is not allowed: %r" % (path,))
    elif event in _WRITE_EVENTS:
        for a in args[:2]:
            if isinstance(a, (str, bytes, os.PathLike)) and not _inside(a):
                raise PermissionError("sandbox: %s outside the sandbox directory is not allowed: %r" % (event, a))

class _NoSocket:
    def __init__(self, *a, **k):
        raise PermissionError("sandbox: network access is disabled (socket.socket)")

if sys.argv[6] == "1":
    import socket as _socket
    _socket.socket = _NoSocket
    _socket.create_connection = _NoSocket
    sys.addaudithook(_hook)

_code = open("main.py", encoding="utf-8").read()
_ns = {"__name__": "__main__"}
exec(compile(_code, "<model code>", "exec"), _ns)
if _mode in ("answer", "solution"):
    _res = _ns["answer"] if _mode == "answer" else _ns["solution"]()
    sys.stdout.flush()
    with open("__result__.txt", "w", encoding="utf-8") as _f:
        _f.write(str(_res))
'''

_READ_CAP = 1 << 20  # at most 1 MiB of stdout/stderr is read back


@dataclass
class ExecResult:
    """status: "ok" | "error" (an exception in the code) | "timeout" (wall or CPU limit) |
    "memory" (memory limit) | "killed" (another signal). `result` is str(answer) / str(solution()) in
    the PAL modes. `stdout`/`error` are the raw (capped) texts; `tool_output()` is the paper's block text."""

    status: str
    stdout: str = ""
    error: str | None = None
    result: str | None = None
    seconds: float = 0.0
    returncode: int | None = None

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def tool_output(self) -> str:
        """Text for the "```output" block of the tool-integrated loop (spec §5.6)."""
        if self.status == "ok":
            return truncate_chars(self.stdout.strip())
        return "Runtime errors: " + truncate_tokens(self.error or self.status)


def truncate_chars(text: str, limit: int = 100, keep: int = 50) -> str:
    """Longer than `limit` characters -> first `keep` + "..." + last `keep` (DeepSeek-Math's executor)."""
    return text if len(text) <= limit else text[:keep] + "..." + text[-keep:]


def truncate_tokens(text: str, limit: int = 100, keep: int = 50) -> str:
    """The same cut for error messages, counted in whitespace-separated tokens."""
    toks = text.split()
    return text if len(toks) <= limit else " ".join(toks[:keep]) + " ... " + " ".join(toks[-keep:])


@functools.lru_cache(maxsize=1)
def namespace_prefix() -> tuple[str, ...]:
    """The `unshare` command prefix that gives the child an empty network namespace and its own PID
    namespace on this machine ("-r" maps the user to root in a user namespace when we are not root);
    () when the kernel or the container forbids it (then only the in-process guards hold)."""
    exe = shutil.which("unshare")
    if exe is None:
        return ()
    flags = ["-n", "-p", "-f", "--kill-child"] if os.geteuid() == 0 else ["-r", "-n", "-p", "-f", "--kill-child"]
    try:
        ok = subprocess.run([exe, *flags, "true"], capture_output=True, timeout=10).returncode == 0
    except (OSError, subprocess.SubprocessError):
        ok = False
    return (exe, *flags) if ok else ()


def netns_available() -> bool:
    return bool(namespace_prefix())


def _user_process_count() -> int:
    uid, n = os.getuid(), 0
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                if os.stat(f"/proc/{d}").st_uid == uid:
                    n += 1
            except OSError:
                pass
    return n


def run_code(code: str, *, mode: str = "stdout", timeout: float = 10.0, cpu_s: int | None = None,
             memory_mb: int = 2048, extra_processes: int = 8, max_file_mb: int = 16,
             isolate_network: bool = True, python_guards: bool = True) -> ExecResult:
    """Run `code` in a contained child (see the module docstring).

    mode: "stdout" (tool-integrated: capture prints), "answer" (PAL MATH: str of the variable `answer`),
    "solution" (PAL GSM8K: str of `solution()`). timeout: wall seconds (DeepSeek's 10 s); cpu_s defaults
    to ceil(timeout). extra_processes: how many processes the snippet may add beyond what this user
    already runs (RLIMIT_NPROC counts per user). isolate_network / python_guards switch off the namespace
    and audit-hook layers (only to test each layer alone)."""
    if mode not in ("stdout", "answer", "solution"):
        raise ValueError(f"run_code: unknown mode {mode!r}; expected stdout, answer or solution")
    cpu_s = cpu_s or max(1, int(timeout + 0.999))
    work = Path(tempfile.mkdtemp(prefix="seekmath-sandbox-"))
    start = time.monotonic()
    try:
        (work / "main.py").write_text(code, encoding="utf-8")
        (work / "runner.py").write_text(_RUNNER, encoding="utf-8")
        nproc = _user_process_count() + extra_processes + 2  # +2: unshare's exec and python itself
        cmd = [sys.executable, "-I", "runner.py", mode, str(cpu_s), str(memory_mb << 20), str(nproc), str(max_file_mb << 20),
               "1" if python_guards else "0"]
        if isolate_network:
            cmd = [*namespace_prefix(), *cmd]
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PYTHONHASHSEED": "0", "HOME": str(work),
               "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "LANG": "C.UTF-8"}
        with open(work / "stdout.txt", "wb") as out, open(work / "stderr.txt", "wb") as err:
            proc = subprocess.Popen(cmd, cwd=work, stdin=subprocess.DEVNULL, stdout=out, stderr=err, env=env,
                                    start_new_session=True, close_fds=True)  # own process group: killpg at the end
            timed_out = False
            try:
                rc = proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                timed_out = True
                rc = None
            finally:
                _kill_group(proc.pid)
                if rc is None:
                    rc = proc.wait()
        seconds = time.monotonic() - start
        stdout = _read(work / "stdout.txt")
        stderr = _read(work / "stderr.txt")
        result_file = work / "__result__.txt"
        result = _read(result_file) if result_file.exists() else None
        if timed_out or rc in (-signal.SIGXCPU, -signal.SIGKILL) and "MemoryError" not in stderr:
            status = "timeout" if timed_out or rc == -signal.SIGXCPU or seconds >= timeout else "killed"
            return ExecResult(status, stdout, f"{'wall-clock' if timed_out else 'CPU'} time limit exceeded"
                              if status == "timeout" else f"killed by signal {-rc}", None, seconds, rc)
        if "MemoryError" in stderr or rc == -signal.SIGSEGV:
            return ExecResult("memory", stdout, "MemoryError: memory limit exceeded", None, seconds, rc)
        if rc != 0:
            last = [ln for ln in stderr.strip().splitlines() if ln.strip()]
            msg = last[-1] if last else f"exit code {rc}"
            status = "killed" if rc is not None and rc < 0 else "error"
            return ExecResult(status, stdout, msg, None, seconds, rc)
        return ExecResult("ok", stdout, None, result, seconds, rc)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _kill_group(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def _read(path: Path) -> str:
    with open(path, "rb") as f:
        return f.read(_READ_CAP).decode("utf-8", errors="replace")


def run_many(codes: list[str], *, workers: int = 2, **kwargs) -> list[ExecResult]:
    """`run_code` over many snippets, `workers` children at a time (threads only wait on processes)."""
    if workers <= 1 or len(codes) <= 1:
        return [run_code(c, **kwargs) for c in codes]
    with ThreadPoolExecutor(workers) as pool:
        return list(pool.map(lambda c: run_code(c, **kwargs), codes))
