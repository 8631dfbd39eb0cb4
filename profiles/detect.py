"""Recognise a profile by its content, never by its file name."""

from __future__ import annotations

import gzip
import json
import re
import zlib
from pathlib import Path
from typing import Any

from megawatt.errors import ProfileFormatError, UnknownProfileFormat

GZIP_MAGIC = b"\x1f\x8b"
DEFAULT_MAX_BYTES = 2 * 1024**3

# A collapsed-stack line: frames joined by ";" then whitespace and a count.
_COLLAPSED_LINE = re.compile(rb"^[^\n]*\S?\s+\d+(\.\d+)?\s*$")


def read_profile_bytes(path: Path, max_bytes: int = DEFAULT_MAX_BYTES) -> bytes:
    source = str(path)
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise ProfileFormatError(source, "no such file") from None
    except OSError as err:
        raise ProfileFormatError(source, f"cannot read: {err.strerror or err}") from None
    if path.is_dir():
        raise ProfileFormatError(source, "is a directory, not a profile file")
    if size > max_bytes:
        raise ProfileFormatError(
            source,
            f"file is {size / 1024**2:,.0f} MB, over the {max_bytes / 1024**2:,.0f} MB limit "
            "for one profile (raise [tool.megawatt] max_profile_mb to load it)",
        )
    if size == 0:
        raise ProfileFormatError(source, "file is empty")
    try:
        data = path.read_bytes()
    except OSError as err:
        raise ProfileFormatError(source, f"cannot read: {err.strerror or err}") from None
    if data.startswith(GZIP_MAGIC):
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError, zlib.error) as err:
            raise ProfileFormatError(source, f"gzip data is truncated or corrupt ({err})") from None
        if len(data) > max_bytes:
            raise ProfileFormatError(source, "decompressed data is over the size limit")
        if not data:
            raise ProfileFormatError(source, "gzip file holds no data")
    return data


def _looks_like_json(data: bytes) -> bool:
    head = data[:64].lstrip()
    if not head.startswith(b"{"):
        return False
    rest = head[1:].lstrip()
    return rest[:1] in (b'"', b"}") or (not rest and len(data) > len(head))


def _json(source: str, data: bytes) -> Any:
    try:
        return json.loads(data)
    except UnicodeDecodeError:
        raise ProfileFormatError(source, "JSON is not valid UTF-8") from None
    except json.JSONDecodeError as err:
        tail = " (the file looks truncated)" if err.pos >= len(data.rstrip()) - 1 else ""
        raise ProfileFormatError(
            source, f"invalid JSON at line {err.lineno}, column {err.colno}: {err.msg}{tail}"
        ) from None


def json_format(obj: Any) -> str | None:
    if not isinstance(obj, dict):
        return None
    schema = str(obj.get("$schema", ""))
    if "speedscope" in schema or ("shared" in obj and "profiles" in obj):
        return "speedscope"
    if "root_frame" in obj or ("session" in obj and "frame_tree" in obj):
        return "pyinstrument"
    if "files" in obj and ("elapsed_time_sec" in obj or "program" in obj):
        return "scalene"
    return None


def _looks_like_collapsed(data: bytes) -> bool:
    if b"\x00" in data[:4096]:
        return False
    lines = [ln for ln in data[:65536].split(b"\n")[:50] if ln.strip()]
    # the last line of a 64 KiB window may be cut; judge on the complete ones
    if len(lines) > 1 and len(data) > 65536:
        lines = lines[:-1]
    return bool(lines) and all(_COLLAPSED_LINE.match(ln) for ln in lines)


def sniff(source: str, data: bytes) -> tuple[str, Any]:
    """The format name of `data`, and the decoded JSON document for JSON formats."""
    if _looks_like_json(data):
        obj = _json(source, data)
        fmt = json_format(obj)
        if fmt is None:
            keys = ", ".join(sorted(obj)[:8]) if isinstance(obj, dict) else type(obj).__name__
            raise UnknownProfileFormat(
                source,
                f"JSON that is not a speedscope, pyinstrument or Scalene profile (keys: {keys})",
            )
        return fmt, obj
    if data[:1] in (b"{", b"\xfb"):
        return "pstats", None
    if data.lstrip()[:1] in (b"[",):
        raise UnknownProfileFormat(source, "a JSON list is not a profile format Megawatt knows")
    if _looks_like_collapsed(data):
        return "collapsed", None
    # pprof is a protobuf Profile message: its first field is sample_type (1) or sample (2),
    # both length-delimited, so the first byte is 0x0a or 0x12.
    if data[:1] in (b"\x0a", b"\x12", b"\x1a", b"\x22", b"\x2a", b"\x32"):
        return "pprof", None
    try:
        text = data[:200].decode("utf-8")
        hint = f"it starts with {text.splitlines()[0][:60]!r}" if text.strip() else "it is blank"
    except UnicodeDecodeError:
        hint = f"it starts with bytes {data[:8].hex(' ')}"
    raise UnknownProfileFormat(
        source,
        "not a profile Megawatt can read (cProfile/pstats, speedscope, collapsed stacks, "
        f"pyinstrument JSON, Scalene JSON or pprof); {hint}",
    )
