"""Recognise a profile by its content, never by its file name."""

from __future__ import annotations

import json
import re
import sys
import threading
import zlib
from pathlib import Path
from typing import Any

from megawatt.errors import ProfileFormatError, UnknownProfileFormat

GZIP_MAGIC = b"\x1f\x8b"
DEFAULT_MAX_BYTES = 2 * 1024**3

# A collapsed-stack line: frames joined by ";" then whitespace and a count; austin's full mode
# writes "time,idle,memory" and memory counts may be negative.
_COLLAPSED_LINE = re.compile(rb"^[^\n]*\s-?\d+(\.\d+)?(,-?\d+(\.\d+)?)*\s*$|^\s*-?\d+\s*$")


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
        data = _gunzip(source, data, max_bytes)
    return data


def _gunzip(source: str, data: bytes, max_bytes: int) -> bytes:
    # inflate at most one byte past the limit, so a small "gzip bomb" cannot exhaust memory
    inflater = zlib.decompressobj(wbits=31)
    try:
        out = inflater.decompress(data, max_bytes + 1)
    except zlib.error as err:
        raise ProfileFormatError(source, f"gzip data is truncated or corrupt ({err})") from None
    if len(out) > max_bytes:
        raise ProfileFormatError(
            source, f"decompresses to over the {max_bytes / 1024**2:,.0f} MB limit for one profile"
        )
    if not inflater.eof:
        raise ProfileFormatError(source, "gzip data is truncated or corrupt (unexpected end)")
    if not out:
        raise ProfileFormatError(source, "gzip file holds no data")
    return out


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
    except RecursionError:
        return _json_deep(source, data)
    except json.JSONDecodeError as err:
        raise json_error(source, err) from None


_CONTROL_NAMES = {
    "\n": "a line break",
    "\r": "a carriage return",
    "\t": "a tab",
    "\x00": "a NUL byte",
}


def json_error(source: str, err: json.JSONDecodeError, what: str = "JSON") -> ProfileFormatError:
    """What is wrong with a JSON document and where: line, column and the text around it.

    The file is said to be truncated only when nothing but blanks (or the zero bytes a writer
    that died leaves in a preallocated file) follows the point where reading stopped.
    """
    doc, pos = err.doc, err.pos
    reason = err.msg.removesuffix(" at")
    if err.msg.startswith("Invalid control character"):
        char = doc[pos] if pos < len(doc) else ""
        named = _CONTROL_NAMES.get(char, f"U+{ord(char):04X}" if char else "a control character")
        reason = f"{named} inside a string (JSON needs it escaped)"
    elif err.msg.startswith("Extra data"):
        reason = "more data after the end of the JSON document"
    where = f"invalid {what} at line {err.lineno}, column {err.colno}"
    cut = " (was the profiler still writing it?)"
    if err.msg.startswith("Unterminated string"):
        return ProfileFormatError(
            source, f"{where}: a string starts there and the file ends inside it, so it looks "
            f"truncated{cut}"
        )  # fmt: skip
    if not doc[pos:].strip(" \t\r\n\x00"):
        return ProfileFormatError(
            source, f"{where}: {reason}, but the file ends there, so it looks truncated{cut}"
        )
    near = doc[max(0, pos - 30) : pos + 30]
    return ProfileFormatError(source, f"{where}: {reason} (near {near!r})")


def _json_deep(source: str, data: bytes) -> Any:
    """Decode JSON nested deeper than the default recursion limit allows.

    A call tree of a program that recursed a thousand levels is nested two thousand deep; the
    decoder recurses per level, so it runs on a thread with a large stack and a raised limit.
    """
    result: list[Any] = []
    failure: list[BaseException] = []

    def work() -> None:
        old = sys.getrecursionlimit()
        sys.setrecursionlimit(1_000_000)
        try:
            result.append(json.loads(data))
        except (RecursionError, ValueError) as err:
            failure.append(err)
        finally:
            sys.setrecursionlimit(old)

    previous = threading.stack_size(512 * 1024**2)
    try:
        worker = threading.Thread(target=work, name="megawatt-deep-json")
        worker.start()
        worker.join()
    finally:
        threading.stack_size(previous)
    if failure or not result:
        raise ProfileFormatError(source, "JSON is nested too deeply to read") from None
    return result[0]


def json_format(obj: Any) -> str | None:
    if not isinstance(obj, dict):
        return None
    schema = str(obj.get("$schema", ""))
    if "speedscope" in schema or ("shared" in obj and "profiles" in obj):
        return "speedscope"
    if "root_frame" in obj or ("frame_records" in obj and "start_call_stack" in obj):
        return "pyinstrument"
    if "files" in obj and ("elapsed_time_sec" in obj or "program" in obj):
        return "scalene"
    return None


def _is_text(data: bytes) -> bool:
    head = data[:4096]
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError as err:
        if err.start < len(head) - 3:  # not merely a character cut at the window's end
            return False
        text = head[: err.start].decode("utf-8")
    return not any(ord(c) < 32 and c not in "\n\r\t" for c in text)


def _looks_like_collapsed(data: bytes) -> bool:
    if b"\x00" in data[:4096]:
        return False
    # headers and comments (austin writes "# mode: wall") say nothing about the format
    lines = [ln for ln in data[:65536].split(b"\n")[:80] if ln.strip() and not ln.startswith(b"#")]
    # the last line of a 64 KiB window may be cut; judge on the complete ones
    if len(lines) > 1 and len(data) > 65536:
        lines = lines[:-1]
    return bool(lines) and all(_COLLAPSED_LINE.match(ln) for ln in lines)


def sniff(source: str, data: bytes) -> tuple[str, Any]:
    """The format name of `data`, and the decoded JSON document for JSON formats."""
    if _looks_like_json(data):
        if b"speedscope.app/file-format-schema" in data[:4096]:
            return "speedscope", None  # its loader parses it, faster than a plain json.loads
        obj = _json(source, data)
        fmt = json_format(obj)
        if obj == {}:
            raise ProfileFormatError(
                source,
                "an empty JSON object (Scalene writes this when the program ended before its "
                "first sample)",
            )
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
    # pprof is a protobuf Profile message: its first field is sample_type (1) or sample (2),
    # both length-delimited, so the first byte is 0x0a or 0x12 (and the rest is binary).
    # Text is never pprof: its field tags and lengths are control bytes (a text file starting
    # with '"' or '*' only looks like one by its first byte).
    text = _is_text(data)
    if not text and data[:1] in (b"\x0a", b"\x12", b"\x1a", b"\x22", b"\x2a", b"\x32"):
        return "pprof", None
    if text and _looks_like_collapsed(data):
        return "collapsed", None
    raise UnknownProfileFormat(source, _not_a_profile(source, data, text))


def _not_a_profile(source: str, data: bytes, text: bool) -> str:
    head = data[:200].decode("utf-8", errors="replace")
    first = next((ln for ln in head.splitlines() if ln.strip()), "")
    if not text:
        hint = f"it starts with bytes {data[:8].hex(' ')}"
    else:
        hint = f"it starts with {first[:60]!r}" if first else "it is blank"
    message = (
        "not a profile Megawatt can read (cProfile/pstats, speedscope, collapsed stacks, "
        f"pyinstrument JSON, Scalene JSON or pprof); {hint}"
    )
    if text and source.endswith((".py", ".pyw")):
        message += f"; to profile this program: megawatt profile run -- python {source}"
    return message
