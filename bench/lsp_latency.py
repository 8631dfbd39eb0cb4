"""Editor latency: keystroke → fresh diagnostics, for Megawatt and `ruff server`, same harness.

    python -m bench.lsp_latency [--edits 200] [--lines 5000] [--files 1000] [--json FILE]

One minimal JSON-RPC client over pipes drives each server the same way: open a generated file of
the given length, then apply single-character edits at varied places, one at a time, timing from
the `didChange` to the `publishDiagnostics` of that version. Also: time to first diagnostics after
`didOpen`, and peak RSS after opening every file of a generated project.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import json
import os
import queue
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
SETTLE_MS = 200  # server.SETTLE_SECONDS: the pause after which the settled pass runs
EXAMPLE = REPO / "examples" / "shop.py"


class RpcClient:
    def __init__(self, argv: list[str], cwd: Path) -> None:
        self.proc = subprocess.Popen(
            argv, cwd=cwd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL
        )
        self.inbox: queue.Queue[dict[str, Any]] = queue.Queue()
        self._id = 0
        self.backlog: list[dict[str, Any]] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        out = self.proc.stdout
        assert out is not None
        while True:
            length = 0
            while True:
                line = out.readline()
                if not line:
                    return
                if line in (b"\r\n", b"\n"):
                    break
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            msg = json.loads(out.read(length))
            msg["_at"] = time.perf_counter()
            self.inbox.put(msg)

    def send(self, msg: dict[str, Any]) -> float:
        body = json.dumps({"jsonrpc": "2.0", **msg}).encode()
        assert self.proc.stdin is not None
        at = time.perf_counter()
        self.proc.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        self.proc.stdin.flush()
        return at

    def request(self, method: str, params: Any) -> dict[str, Any]:
        self._id += 1
        rid = self._id
        self.send({"id": rid, "method": method, "params": params})
        while True:
            msg = self._receive(60)
            if msg.get("id") == rid and "method" not in msg:
                return msg
            self.backlog.append(msg)  # notifications that arrived meanwhile are still wanted

    def notify(self, method: str, params: Any) -> float:
        return self.send({"method": method, "params": params})

    def next(self, timeout: float) -> dict[str, Any]:
        if self.backlog:
            return self.backlog.pop(0)
        return self._receive(timeout)

    def _receive(self, timeout: float) -> dict[str, Any]:
        msg = self.inbox.get(timeout=timeout)
        if "method" in msg and "id" in msg:  # a request from the server: answer null
            self.send({"id": msg["id"], "result": None})
        return msg

    def wait_diagnostics(self, uri: str, version: int | None, timeout: float = 30) -> float:
        deadline = time.perf_counter() + timeout
        while True:
            msg = self.next(max(deadline - time.perf_counter(), 0.01))
            if msg.get("method") != "textDocument/publishDiagnostics":
                continue
            p = msg["params"]
            if p["uri"] == uri and (version is None or p.get("version") in (version, None)):
                return float(msg["_at"])

    def close(self) -> int:
        try:
            self.request("shutdown", None)
            self.notify("exit", None)
            self.proc.wait(5)
        except Exception:
            self.proc.kill()
        return 0

    def peak_rss_mb(self) -> float:
        with open(f"/proc/{self.proc.pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
        return float("nan")


def generate_file(lines: int) -> str:
    """Realistic code of about `lines` lines: the example's functions, renamed per copy."""
    body = EXAMPLE.read_text().split("\n\n\ndef main(")[0]
    head, _, functions = body.partition("\n\n\n@dataclass")
    chunks = [head]
    i = 0
    while sum(c.count("\n") for c in chunks) < lines:
        chunk = "\n\n\n@dataclass" + functions
        for name in ("edit_distance", "closest_product", "parse_sku", "valid_orders", "price",
                     "settle", "cheapest", "report", "make_orders", "run", "Order"):  # fmt: skip
            chunk = chunk.replace(name, f"{name}_{i}")
        chunks.append(chunk)
        i += 1
    return "\n".join(chunks)[: 10**9] + "\n"


def init(client: RpcClient, root: Path) -> None:
    caps = {
        "general": {"positionEncodings": ["utf-16"]},
        "textDocument": {"publishDiagnostics": {"versionSupport": True}, "synchronization": {}},
        "workspace": {"configuration": False},
        "window": {"workDoneProgress": False},
    }
    client.request("initialize", {"processId": os.getpid(), "rootUri": root.as_uri(),
                                  "capabilities": caps,
                                  "workspaceFolders": [{"uri": root.as_uri(), "name": "w"}]})  # fmt: skip
    client.notify("initialized", {})


def _open(argv: list[str], root: Path, name: str, text: str) -> tuple[RpcClient, str, float]:
    """A started server with `text` open as `name`; the time to its first diagnostics."""
    path = root / name
    path.write_text(text)
    uri = path.as_uri()
    client = RpcClient(argv, root)
    init(client, root)
    t0 = client.notify(
        "textDocument/didOpen",
        {"textDocument": {"uri": uri, "languageId": "python", "version": 1, "text": text}},
    )
    return client, uri, client.wait_diagnostics(uri, 1) - t0


def _keystrokes(
    client: RpcClient, uri: str, text: str, edits: int, seed: int, chars: str
) -> Iterator[tuple[int, Callable[[], float]]]:
    """(version, send) per single-character insertion at a random place; `send` returns when
    it was sent. The same seed gives every server the same edits."""
    lines = text.split("\n")
    rng = random.Random(seed)
    for k in range(edits):
        version = k + 2
        row = rng.randrange(len(lines) - 1)
        col = rng.randrange(len(lines[row]) + 1)
        char = rng.choice(chars)
        lines[row] = lines[row][:col] + char + lines[row][col:]
        at = {"line": row, "character": col}
        params = {"textDocument": {"uri": uri, "version": version},
                  "contentChanges": [{"range": {"start": at, "end": at}, "text": char}]}  # fmt: skip
        yield version, functools.partial(client.notify, "textDocument/didChange", params)


def measure_server(
    name: str, argv: list[str], root: Path, text: str, edits: int, seed: int
) -> dict[str, Any]:
    client, uri, first = _open(argv, root, "big.py", text)
    latencies = []
    for version, send in _keystrokes(client, uri, text, edits, seed, "xyz "):
        sent = send()
        latencies.append(client.wait_diagnostics(uri, version) - sent)
    client.close()
    latencies.sort()

    def pct(p: float) -> float:
        return latencies[min(int(p * len(latencies)), len(latencies) - 1)] * 1e3

    return {"server": name, "first_ms": first * 1e3, "p50_ms": pct(0.5), "p95_ms": pct(0.95),
            "p99_ms": pct(0.99), "mean_ms": statistics.mean(latencies) * 1e3}  # fmt: skip


def measure_rss(name: str, argv: list[str], root: Path, files: int) -> dict[str, Any]:
    project = root / f"project-{name}"
    project.mkdir()
    text = EXAMPLE.read_text()
    paths = []
    for i in range(files):
        p = project / f"mod_{i:04d}.py"
        p.write_text(text.replace("edit_distance", f"edit_distance_{i}"))
        paths.append(p)
    client = RpcClient(argv, project)
    init(client, project)
    start = time.perf_counter()
    for p in paths:
        client.notify(
            "textDocument/didOpen",
            {
                "textDocument": {
                    "uri": p.as_uri(),
                    "languageId": "python",
                    "version": 1,
                    "text": text,
                }
            },
        )
    # a request sent after every open must still be answered promptly: opening blocks nothing
    probe = time.perf_counter()
    client.request(
        "textDocument/hover",
        {"textDocument": {"uri": paths[0].as_uri()}, "position": {"line": 0, "character": 0}},
    )
    probe_ms = (time.perf_counter() - probe) * 1e3
    pending = {p.as_uri() for p in paths}
    deadline = time.perf_counter() + 300
    while pending and time.perf_counter() < deadline:
        msg = client.next(60)
        if msg.get("method") == "textDocument/publishDiagnostics":
            pending.discard(msg["params"]["uri"])
    all_ms = (time.perf_counter() - start) * 1e3
    rss = client.peak_rss_mb()
    client.close()
    return {"server": name, "files": files, "peak_rss_mb": rss, "all_diagnostics_ms": all_ms,
            "hover_during_open_ms": probe_ms}  # fmt: skip


def servers(ruff_path: str | None = None) -> dict[str, list[str]]:
    found = {"megawatt": [sys.executable, "-m", "megawatt", "serve"]}
    ruff = Path(sys.executable).parent / "ruff"
    ruff_path = ruff_path or (str(ruff) if ruff.exists() else shutil.which("ruff"))
    if ruff_path:
        found["ruff server"] = [ruff_path, "server"]
    return found


def measure_settled(
    argv: list[str], root: Path, text: str, edits: int, seed: int
) -> dict[str, Any]:
    """Megawatt answers a keystroke with a quick pass, then, once edits pause, with the settled
    whole-file pass (a second publish of the same version): the time to that one, edits spaced
    out so each can settle."""
    client, uri, _first = _open(argv, root, "settle.py", text)
    quick, settled = [], []
    for version, send in _keystrokes(client, uri, text, edits, seed, "x"):
        sent = send()
        quick.append(client.wait_diagnostics(uri, version) - sent)
        # none comes when the quick pass was already a whole-file one
        with contextlib.suppress(queue.Empty):
            settled.append(client.wait_diagnostics(uri, version, timeout=5) - sent)
    client.close()
    return {"edits": edits, "settled_count": len(settled),
            "quick_p50_ms": statistics.median(quick) * 1e3,
            "settled_p50_ms": statistics.median(settled) * 1e3 if settled else None,
            "settled_max_ms": max(settled) * 1e3 if settled else None}  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--edits", type=int, default=200)
    ap.add_argument("--lines", type=int, default=5000)
    ap.add_argument("--files", type=int, default=1000)
    ap.add_argument("--json", type=Path)
    ap.add_argument("--ruff", help="the ruff executable to compare with (default: beside Python)")
    ap.add_argument("--settle", type=int, default=20, help="edits timed to the settled pass")
    args = ap.parse_args(argv)
    text = generate_file(args.lines)
    results: dict[str, Any] = {
        "lines": text.count("\n"),
        "edits": args.edits,
        "latency": [],
        "rss": [],
    }
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        for name, cmd in servers(args.ruff).items():
            results["latency"].append(measure_server(name, cmd, root, text, args.edits, seed=7))
        if args.settle:
            mw = servers(args.ruff)["megawatt"]
            results["settled"] = measure_settled(mw, root, text, args.settle, seed=11)
        if args.files:
            for name, cmd in servers(args.ruff).items():
                results["rss"].append(measure_rss(name.replace(" ", "-"), cmd, root, args.files))
    print(f"keystroke → diagnostics on a {results['lines']}-line file, {args.edits} edits")
    print(f"{'server':<14}{'first':>9}{'p50':>9}{'p95':>9}{'p99':>9}")
    for r in results["latency"]:
        print(
            f"{r['server']:<14}{r['first_ms']:>7.0f}ms{r['p50_ms']:>7.1f}ms{r['p95_ms']:>7.1f}ms{r['p99_ms']:>7.1f}ms"
        )
    lat = {r["server"]: r for r in results["latency"]}
    if "ruff server" in lat:
        print(
            f"p99 ratio megawatt / ruff server: {lat['megawatt']['p99_ms'] / lat['ruff server']['p99_ms']:.1f}×"
        )
    st = results.get("settled")
    if st and st["settled_p50_ms"] is not None:
        print(f"megawatt settled pass (whole file, after edits pause {SETTLE_MS} ms): "
              f"p50 {st['settled_p50_ms']:.0f} ms after the keystroke, max "
              f"{st['settled_max_ms']:.0f} ms ({st['settled_count']} of {st['edits']} edits)")  # fmt: skip
    for r in results["rss"]:
        print(f"{r['server']}: {r['files']} files open → peak RSS {r['peak_rss_mb']:.0f} MB, "
              f"all diagnostics in {r['all_diagnostics_ms'] / 1e3:.1f} s, "
              f"a hover sent after the opens answered in {r['hover_during_open_ms']:.0f} ms")  # fmt: skip
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
