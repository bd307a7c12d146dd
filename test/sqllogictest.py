#!/usr/bin/env python3
"""A small sqllogictest runner for medallion, over the two DuckDB hosts we support.

DuckDB's own Python runner is not on PyPI, so this implements the subset of its
format our tests use, and runs every file in BOTH hosts:

* ``python``: the ``duckdb`` Python package (one in-memory connection a file);
* ``cli``: the real DuckDB CLI (one process a file, the whole file piped in).

Records (separated by blank lines; ``#`` lines are comments):

    require medallion          LOAD the extension under test; a failed load FAILS
    statement ok               the SQL must succeed
    statement error            the SQL must fail; after ``----``, the error must
                               contain that text (or match ``<REGEX>:pattern``)
    query <types> [rowsort]    the SQL's rows, tab-separated, after ``----``
    onlyif <host> / skipif <host>   a line before a record: run it in one host only
    mode skip / mode unskip    skip records until unskip
    halt                       stop the file here

Placeholders: ``__TEST_DIR__`` (a fresh temp dir per file and host),
``__WORKING_DIRECTORY__`` (the repo root), ``__EXTENSION__`` (the extension path).
Values print as DuckDB prints them: NULL, true/false, ``(empty)`` for ''.

Ends with ``sqllogictest: N passed, N failed`` and exits 1 on any failure.
"""
from __future__ import annotations

import argparse
import dataclasses
import datetime
import decimal
import os
import re
import shutil
import subprocess
import sys
import tempfile
import uuid

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HOSTS = ("python", "cli")


@dataclasses.dataclass
class Record:
    kind: str  # require | statement_ok | statement_error | query | halt
    sql: str
    line: int
    expected: list[str] = dataclasses.field(default_factory=list)
    sort: str = "nosort"
    only: str | None = None
    skip: str | None = None
    arg: str = ""

    def runs_in(self, host: str) -> bool:
        return (self.only in (None, host)) and self.skip != host


def parse(path: str) -> list[Record]:
    """Split a .test file into records."""
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    records, i, skipping = [], 0, False
    while i < len(lines):
        line = lines[i].strip()
        if not line or line.startswith("#"):
            i += 1
            continue
        start, only, skip = i + 1, None, None
        while line.startswith(("onlyif ", "skipif ")):
            word, host = line.split(None, 1)
            if host not in HOSTS:
                raise SyntaxError(f"{path}:{i + 1}: unknown host {host!r} (expected one of {HOSTS})")
            only, skip = (host, skip) if word == "onlyif" else (only, host)
            i += 1
            line = lines[i].strip()
        head = line.split()
        i += 1
        body = []
        while i < len(lines) and lines[i].strip():
            body.append(lines[i])
            i += 1
        if head == ["mode", "skip"]:
            skipping = True
            continue
        if head == ["mode", "unskip"]:
            skipping = False
            continue
        if skipping:
            continue
        if head[0] == "halt":
            records.append(Record("halt", "", start))
            break
        if head[0] == "require":
            records.append(Record("require", "", start, arg=head[1], only=only, skip=skip))
            continue
        sql, expected = body, []
        if "----" in [b.strip() for b in body]:
            cut = [b.strip() for b in body].index("----")
            sql, expected = body[:cut], body[cut + 1:]
        sql_text = "\n".join(sql).strip()
        if head[0] == "statement" and head[1:2] == ["ok"]:
            kind = "statement_ok"
        elif head[0] == "statement" and head[1:2] == ["error"]:
            kind = "statement_error"
        elif head[0] == "query":
            kind = "query"
        else:
            raise SyntaxError(f"{path}:{start}: unknown record {line!r}")
        sort = head[2] if kind == "query" and len(head) > 2 else "nosort"
        if sort not in ("nosort", "rowsort", "valuesort"):
            raise SyntaxError(f"{path}:{start}: unknown sort mode {sort!r}")
        records.append(Record(kind, sql_text, start, expected, sort, only, skip))
    return records


# ---------------------------------------------------------------- formatting

def fmt(value, nested: bool = False) -> str:
    """Format a Python value the way the DuckDB CLI prints it in list mode."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value if (value or nested) else "(empty)"
    if isinstance(value, float):
        return repr(value) if value == value else "nan"
    if isinstance(value, (int, decimal.Decimal, datetime.date, datetime.datetime, datetime.time, uuid.UUID)):
        return str(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(fmt(v, True) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"'{k}': {fmt(v, True)}" for k, v in value.items()) + "}"
    return str(value)


def sort_rows(rows: list[list[str]], mode: str) -> list[str]:
    if mode == "rowsort":
        return ["\t".join(r) for r in sorted(rows)]
    if mode == "valuesort":
        return sorted(v for r in rows for v in r)
    return ["\t".join(r) for r in rows]


def expected_lines(rec: Record) -> list[str]:
    if rec.sort == "valuesort":
        return sorted(v for line in rec.expected for v in line.split("\t"))
    if rec.sort == "rowsort":
        return sorted(rec.expected)
    return list(rec.expected)


def error_matches(message: str, expected: list[str]) -> bool:
    want = "\n".join(expected).strip()
    if not want:
        return True
    if want.startswith("<REGEX>:"):
        return re.search(want[len("<REGEX>:"):], message, re.S) is not None
    return want in message


# ---------------------------------------------------------------- hosts

def substitute(sql: str, ctx: dict) -> str:
    for key, value in ctx.items():
        sql = sql.replace(key, value)
    return sql


def run_python(records: list[Record], ctx: dict):
    """Yield (record, error-or-None) for each record, in the Python host."""
    import duckdb

    con = duckdb.connect(config={"allow_unsigned_extensions": "true"})
    try:
        for rec in records:
            sql = substitute(rec.sql, ctx)
            if rec.kind == "require":
                sql = f"LOAD '{ctx['__EXTENSION__']}'" if rec.arg == "medallion" else f"LOAD {rec.arg}"
            try:
                cur = con.execute(sql)
                rows = cur.fetchall() if rec.kind == "query" else []
            except Exception as e:  # any DuckDB error is a result to check
                yield rec, None, f"{e}"
                continue
            yield rec, [[fmt(v) for v in r] for r in rows], None
    finally:
        con.close()


def _python_results(records: list[Record], ctx: dict) -> list[tuple]:
    return [(rows, error) for _, rows, error in run_python(records, ctx)]


def run_python_isolated(records: list[Record], ctx: dict):
    """run_python in a child process of its own, one per file (as the CLI host
    is): process-wide state such as medallion's external-access latch cannot
    leak from one file into the next, and a crash fails only this file."""
    from concurrent.futures import ProcessPoolExecutor
    import multiprocessing

    with ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("fork")) as pool:
        results = pool.submit(_python_results, records, ctx).result()
    for rec, (rows, error) in zip(records, results):
        yield rec, rows, error


CLI_ERROR = re.compile(r"^(\w+ )*Error: ", re.M)


def run_cli(records: list[Record], ctx: dict, cli: str):
    """Pipe the whole file into one CLI process, with a marker after each record."""
    marker = f"__SLT_{uuid.uuid4().hex}__"
    script = [".mode list", '.separator "\\t"', ".headers off", ".nullvalue NULL"]
    for n, rec in enumerate(records):
        sql = substitute(rec.sql, ctx)
        if rec.kind == "require":
            sql = f"LOAD '{ctx['__EXTENSION__']}'" if rec.arg == "medallion" else f"LOAD {rec.arg}"
        script.append(sql if sql.rstrip().endswith(";") else sql + ";")
        script.append(f".print {marker}{n}")
    proc = subprocess.run([cli, "-unsigned", "-batch"], input="\n".join(script) + "\n",
                          capture_output=False, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True, timeout=1800)
    outputs = re.split(rf"^{marker}\d+\n?", proc.stdout, flags=re.M)
    for n, rec in enumerate(records):
        if n >= len(outputs) - 1:
            yield rec, None, f"the CLI stopped before this record (exit {proc.returncode}):\n{outputs[-1][-2000:]}"
            continue
        out = outputs[n]
        if CLI_ERROR.search(out):
            yield rec, None, out.strip()
        else:
            lines = out.split("\n")[:-1] if out.endswith("\n") else out.split("\n")
            rows = [[v if v else "(empty)" for v in line.split("\t")] for line in lines if out]
            yield rec, rows, None


def check(rec: Record, rows, error) -> str | None:
    """Return a failure description, or None if the record passed."""
    if rec.kind in ("require", "statement_ok"):
        return f"expected success, got error:\n{error}" if error is not None else None
    if rec.kind == "statement_error":
        if error is None:
            return "expected an error, the statement succeeded"
        if not error_matches(error, rec.expected):
            return f"error text did not match.\n  expected: {chr(10).join(rec.expected)}\n  actual:   {error}"
        return None
    if error is not None:
        return f"query failed:\n{error}"
    got, want = sort_rows(rows, rec.sort), expected_lines(rec)
    if got != want:
        return "wrong result.\n  expected:\n    " + "\n    ".join(want) + "\n  actual:\n    " + "\n    ".join(got)
    return None


def run_file(path: str, host: str, args) -> tuple[int, list[str]]:
    records = parse(path)
    halt = next((k for k, r in enumerate(records) if r.kind == "halt"), len(records))
    records = [r for r in records[:halt] if r.runs_in(host)]
    test_dir = tempfile.mkdtemp(prefix=f"slt-{host}-")
    ctx = {"__TEST_DIR__": test_dir, "__WORKING_DIRECTORY__": REPO, "__EXTENSION__": args.extension}
    failures, passed = [], 0
    try:
        results = run_python_isolated(records, ctx) if host == "python" else run_cli(records, ctx, args.cli)
        for rec, rows, error in results:
            rec.expected = [substitute(line, ctx) for line in rec.expected]
            problem = check(rec, rows, error)
            if problem is None:
                passed += 1
            else:
                failures.append(f"FAIL [{host}] {os.path.relpath(path, REPO)}:{rec.line}\n{rec.sql}\n{problem}")
    except Exception as e:  # a crashed host fails every record not yet checked
        failures.append(f"FAIL [{host}] {os.path.relpath(path, REPO)}: host crashed: {e}")
    finally:
        shutil.rmtree(test_dir, ignore_errors=True)
    return passed, failures


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description="Run sqllogictest files against the DuckDB Python host and CLI.")
    p.add_argument("files", nargs="+")
    p.add_argument("--extension", required=True, help="path to medallion.duckdb_extension")
    p.add_argument("--cli", default=os.path.join(REPO, ".venv", "bin", "duckdb"))
    p.add_argument("--hosts", default=",".join(HOSTS))
    args = p.parse_args(argv)
    args.extension = os.path.abspath(args.extension)
    if not os.path.isfile(args.extension):
        print(f"sqllogictest: extension not found: {args.extension}", file=sys.stderr)
        return 2
    total_pass, total_fail = 0, 0
    for host in args.hosts.split(","):
        for path in args.files:
            passed, failures = run_file(path, host, args)
            total_pass += passed
            total_fail += len(failures)
            status = "ok" if not failures else f"{len(failures)} FAILED"
            print(f"[{host:6}] {os.path.relpath(path, REPO)}: {passed} passed, {status}")
            for f in failures:
                print(f + "\n")
    print(f"sqllogictest: {total_pass} passed, {total_fail} failed")
    return 1 if total_fail else 0


if __name__ == "__main__":
    sys.exit(main())
