"""The sandbox contains what model-written code can do wrong, and reports it; the host carries on."""

import os
import socket
import uuid
from pathlib import Path

import pytest

from seekmath.evaluate.sandbox import namespace_prefix, run_code, truncate_chars, truncate_tokens


def test_runs_code_and_captures_stdout():
    r = run_code("import sympy\nx = sympy.Symbol('x')\nprint(sympy.solve(x**2 - 4, x))", timeout=10)
    assert r.status == "ok", r.error
    assert r.stdout.strip() == "[-2, 2]"
    assert r.tool_output() == "[-2, 2]"


def test_pal_modes():
    assert run_code("answer = 3 / 4", mode="answer").result == "0.75"
    assert run_code("def solution():\n    return 6 * 7", mode="solution").result == "42"


def test_error_reported_with_last_line():
    r = run_code("print('before')\n1 / 0")
    assert r.status == "error" and r.stdout == "before\n"
    assert r.error == "ZeroDivisionError: division by zero"
    assert r.tool_output() == "Runtime errors: ZeroDivisionError: division by zero"


def test_file_write_outside_directory_is_refused(tmp_path):
    target = tmp_path / f"escape-{uuid.uuid4().hex}.txt"
    r = run_code(f"open({str(target)!r}, 'w').write('pwned')\nprint('wrote')")
    assert r.status == "error" and "outside the sandbox" in r.error
    assert not target.exists()
    # inside the throw-away directory, writing works
    ok = run_code("open('scratch.txt', 'w').write('x')\nprint(open('scratch.txt').read())")
    assert ok.status == "ok" and ok.stdout.strip() == "x"


def test_network_connection_is_refused():
    r = run_code("import socket\ns = socket.create_connection(('127.0.0.1', 9), timeout=2)\nprint('connected')")
    assert r.status == "error" and "network access is disabled" in r.error
    assert "connected" not in r.stdout


@pytest.mark.skipif(not namespace_prefix(), reason="no unprivileged network namespace on this machine")
def test_network_namespace_alone_blocks_connections():
    """Without the in-process guards the empty network namespace still stops a connection."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    port = server.getsockname()[1]
    try:
        r = run_code(f"import socket\ns = socket.create_connection(('127.0.0.1', {port}), timeout=2)\nprint('connected')",
                     python_guards=False)
    finally:
        server.close()
    assert r.status == "error" and "connected" not in r.stdout
    assert "Errno" in r.error or "refused" in r.error or "unreachable" in r.error


FORK_BOMB = """
import os, time
children = 0
try:
    while True:
        if os.fork() == 0:
            time.sleep(30)
            os._exit(0)
        children += 1
except OSError as e:
    print("fork refused after", children)
    raise
"""


def test_fork_bomb_is_contained():
    r = run_code(FORK_BOMB, timeout=5)
    assert r.status == "error" and "starting processes is disabled" in r.error


@pytest.mark.skipif(not namespace_prefix(), reason="no PID namespace on this machine")
def test_fork_bomb_without_python_guards_dies_with_the_sandbox():
    """OS layers alone: RLIMIT_NPROC (non-root) or the PID namespace + time limit end it; nothing survives."""
    marker = f"seekmath-bomb-{uuid.uuid4().hex}"
    code = f"import sys\nsys.argv.append({marker!r})\n" + FORK_BOMB
    r = run_code(code, timeout=3, python_guards=False)
    assert r.status in ("error", "timeout", "killed")
    survivors = []
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                if marker.encode() in Path(f"/proc/{d}/cmdline").read_bytes():
                    survivors.append(d)
            except OSError:
                pass
    assert survivors == []


def test_memory_bomb_is_contained():
    r = run_code("x = []\nwhile True:\n    x.append(bytearray(256 * 1024 * 1024))", memory_mb=1024, timeout=20)
    assert r.status == "memory", (r.status, r.error)
    assert r.tool_output().startswith("Runtime errors: MemoryError")


def test_infinite_loop_is_stopped():
    r = run_code("while True:\n    pass", timeout=1.5)
    assert r.status == "timeout"
    assert r.seconds < 10


def test_huge_output_is_capped_and_truncated():
    r = run_code("print('a' * 60 + 'b' * 60)")
    assert r.tool_output() == "a" * 50 + "..." + "b" * 50
    r = run_code("import sys\nwhile True:\n    sys.stdout.write('x' * 65536)", timeout=10, max_file_mb=1)
    assert r.status in ("killed", "error", "timeout")
    assert len(r.stdout) <= (1 << 20)


def test_host_process_unaffected():
    before = os.getcwd()
    run_code("import os\nos.chdir('/')\nopen('x.txt', 'w').write('1')")
    assert os.getcwd() == before
    assert run_code("print(2 + 2)").stdout == "4\n"  # still works after all of the above


def test_truncation_helpers():
    assert truncate_chars("x" * 100) == "x" * 100
    assert truncate_chars("0123456789" * 11) == ("0123456789" * 5) + "..." + ("0123456789" * 5)
    words = " ".join(str(i) for i in range(120))
    cut = truncate_tokens(words)
    assert cut.startswith("0 1 2") and cut.endswith("118 119") and " ... " in cut and len(cut.split()) == 101


def test_bad_mode():
    with pytest.raises(ValueError, match="unknown mode"):
        run_code("print(1)", mode="eval")
