"""blocking-in-async, checked by running the code: every fix applied (the safe sleep rewrite
and the unsafe `asyncio.to_thread` ones) to an aiohttp-shaped module, then the original and the
rewritten module run on the same inputs: equal results, equal exceptions, and the class's own
`write_bytes` coroutine untouched."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.detectors import findings, fixed, run

SKILL = "blocking-in-async"

MODULE = """
import asyncio
import subprocess
import sys
import time
from pathlib import Path


class ClientRequest:
    def __init__(self, body: bytes) -> None:
        self.body = body

    async def write_bytes(self, writer: list, conn: object, content_length: int | None) -> None:
        await asyncio.sleep(0)
        writer.append(self.body if content_length is None else self.body[:content_length])

    async def send(self, writer: list) -> list:
        coro = self.write_bytes(writer, None, None)
        task = asyncio.ensure_future(coro)
        time.sleep(0.001)
        await task
        await self.write_bytes(writer, None, 2)
        return writer


async def read_config(directory: Path, name: str) -> str:
    text = (directory / name).read_text()
    return text.upper()


async def run_python(code: str) -> str:
    out = subprocess.check_output([sys.executable, "-c", code], stderr=subprocess.DEVNULL)
    return out.decode().strip()


async def main(directory: Path, name: str, body: bytes, code: str) -> tuple:
    req = ClientRequest(body)
    writer = await req.send([])
    config = await read_config(directory, name)
    answer = await run_python(code)
    return writer, config, answer
"""


def _outcome(source: str, call: str) -> tuple[str, Any]:
    try:
        return "ok", run(source, f"asyncio.run({call})")
    except Exception as exc:  # the exception is the outcome compared
        return "raised", type(exc).__name__


def test_rewritten_module_behaves_the_same(tmp_path: Path) -> None:
    (tmp_path / "app.cfg").write_text("debug = true\n", encoding="utf-8")
    found = findings(MODULE, SKILL)
    assert sorted(dict(f.evidence)["resolved"] for f in found) == [
        "directory.read_text",
        "subprocess.check_output",
        "time.sleep",
    ]
    after = fixed(MODULE, SKILL)
    assert "await asyncio.sleep(0.001)" in after
    assert "await asyncio.to_thread((directory / name).read_text)" in after
    assert "await asyncio.to_thread(subprocess.check_output, " in after
    assert "        coro = self.write_bytes(writer, None, None)\n" in after  # its own method
    assert findings(after, SKILL) == []
    inputs = [
        f"main(Path({str(tmp_path)!r}), 'app.cfg', b'payload', 'print(6 * 7)')",
        f"main(Path({str(tmp_path)!r}), 'missing.cfg', b'payload', 'print(1)')",
        f"main(Path({str(tmp_path)!r}), 'app.cfg', b'', 'raise SystemExit(3)')",
    ]
    outcomes = [_outcome(MODULE, call) for call in inputs]
    assert outcomes[0] == ("ok", ([b"payload", b"pa"], "DEBUG = TRUE\n", "42"))
    assert outcomes[1] == ("raised", "FileNotFoundError")
    assert outcomes[2] == ("raised", "CalledProcessError")
    assert [_outcome(after, call) for call in inputs] == outcomes
