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
