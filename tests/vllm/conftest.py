"""The vLLM lane prints what its tests measured (record_property) above pytest's summary line, so
`make test-vllm` shows the equality counts and log-prob gaps without -s and vLLM's own logging."""


def pytest_terminal_summary(terminalreporter):
    rows = [(r.nodeid.split("::")[-1], name, value)
            for outcome in ("passed", "failed") for r in terminalreporter.stats.get(outcome, [])
            if r.when == "call" for name, value in r.user_properties]
    if rows:
        terminalreporter.section("vLLM lane measurements")
        for test, name, value in rows:
            terminalreporter.write_line(f"{name}: {value}   ({test})")
