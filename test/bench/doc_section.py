"""Writes a benchmark's section into docs/benchmarks.md between its markers
`<!-- <name>:start -->` and `<!-- <name>:end -->` (appended the first time),
leaving every other section as it is."""
from __future__ import annotations

import os
import re

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def write_section(name: str, section: str) -> None:
    path = os.path.join(REPO, "docs", "benchmarks.md")
    text = open(path, encoding="utf-8").read() if os.path.exists(path) else "# Benchmarks\n"
    begin, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
    block = f"{begin}\n{section}{end}\n"
    text = re.sub(re.escape(begin) + ".*?" + re.escape(end) + "\n?", lambda _: block, text, flags=re.S) \
        if begin in text else text.rstrip("\n") + "\n\n" + block
    open(path, "w", encoding="utf-8").write(text)


def run_note(stage: str) -> None:
    """`make bench` calls this before (`start`) and after (`end`) all the
    benchmarks: the run's times and the machine's load average then, in a
    section at the top of docs/benchmarks.md."""
    import time

    path = os.path.join(REPO, "docs", "benchmarks.md")
    text = open(path, encoding="utf-8").read()
    now = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    load = "/".join(f"{x:.1f}" for x in os.getloadavg())
    if stage == "start":
        note = (f"Last `make bench`: started {now}, {os.cpu_count()} cores, load average (1/5/15 min) "
                f"{load} at the start")
        if "<!-- bench_run:start -->" not in text:
            head, _, rest = text.partition("\n")
            text = f"{head}\n\n<!-- bench_run:start -->\n<!-- bench_run:end -->\n{rest}"
            open(path, "w", encoding="utf-8").write(text)
        write_section("bench_run", note + ".\n")
    else:
        start = re.search(r"<!-- bench_run:start -->\n(.*?)\.\n", text, re.S)
        write_section("bench_run", f"{start.group(1) if start else 'Last `make bench`'}, ended {now} "
                                   f"with load average {load}. Every section below that carries this date "
                                   "comes from this run.\n")


if __name__ == "__main__":
    import sys

    run_note(sys.argv[1])
