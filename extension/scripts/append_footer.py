#!/usr/bin/env python3
"""Turn the release library into a file DuckDB will LOAD.

DuckDB reads the last 512 bytes of an extension file: eight 32-byte,
NUL-padded metadata fields in reverse order (1: magic "4", 2: platform,
3: C API version, 4: extension version, 5: ABI type, 6-8: unused) followed by
256 bytes where a signature would go. In front of them sits a 22-byte header
that makes the footer a WebAssembly-style custom section named
"duckdb_signature". Unsigned extensions keep the signature zeroed and are
loaded with `allow_unsigned_extensions` / `duckdb -unsigned`.

Usage: append_footer.py LIB OUT --extension-version V
                        [--platform linux_amd64] [--c-api v1.5.6] [--abi C_STRUCT]
"""
import argparse
import os
import sys

FIELD = 32
HEADER = b"\x00" + b"\x93\x04" + b"\x10" + b"duckdb_signature" + b"\x80\x04"
SIGNATURE = b"\x00" * 256


def field(value: str) -> bytes:
    raw = value.encode("ascii")
    if len(raw) > FIELD:
        raise SystemExit(f"append_footer: metadata field {value!r} is longer than {FIELD} bytes")
    return raw + b"\x00" * (FIELD - len(raw))


def footer(platform: str, c_api: str, ext_version: str, abi: str) -> bytes:
    fields = [field(""), field(""), field(""), field(abi), field(ext_version), field(c_api), field(platform), field("4")]
    out = HEADER + b"".join(fields) + SIGNATURE
    assert len(out) == len(HEADER) + 512
    return out


def main(argv):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("lib")
    p.add_argument("out")
    p.add_argument("--extension-version", required=True)
    p.add_argument("--platform", default="linux_amd64")
    p.add_argument("--c-api", default="v1.5.6")
    p.add_argument("--abi", default="C_STRUCT")
    a = p.parse_args(argv)
    with open(a.lib, "rb") as f:
        body = f.read()
    if not body.startswith(b"\x7fELF"):
        raise SystemExit(f"append_footer: {a.lib} is not an ELF shared library")
    tmp = a.out + ".tmp"
    with open(tmp, "wb") as f:
        f.write(body)
        f.write(footer(a.platform, a.c_api, a.extension_version, a.abi))
    os.replace(tmp, a.out)  # never leave a half-written extension behind


if __name__ == "__main__":
    main(sys.argv[1:])
