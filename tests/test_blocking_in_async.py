"""blocking-in-async: positives, negatives with their traps, and the rewrites' behaviour."""

from __future__ import annotations

from tests.detectors import findings, fixed, lines, run

SKILL = "blocking-in-async"


def test_finds_blocking_calls_in_async_functions() -> None:
    src = """
    import os
    import socket
    import subprocess
    import time
    import urllib.request as ur
    from pathlib import Path

    import requests
    from requests import post as send

    async def handler(url, payload):
        time.sleep(0.5)
        r = requests.get(url, timeout=5)
        send(url, json=payload)
        with requests.Session() as s:
            s.put(url)
        ur.urlopen(url)
        out = subprocess.check_output(["git", "status"])
        proc = subprocess.Popen(["sleep", "1"])
        proc.wait()
        os.system("true")
        socket.getaddrinfo("example.com", 80)
        conn = socket.create_connection(("example.com", 80))
        conn.sendall(b"hi")
        name = input("name? ")
        text = Path("config.toml").read_text()
        with open("log.txt", "a") as fh:
            fh.write(text)
        return r, out, name

    class Bot:
        async def loop(self):
            for _ in range(10):
                time.sleep(1)
    """
    found = findings(src, SKILL)
    assert [f.span.line for f in found] == [
        13, 14, 15, 17, 18, 19, 21, 22, 23, 24, 25, 26, 27, 28, 35,
    ]  # fmt: skip
    resolved = [dict(f.evidence)["resolved"] for f in found]
    assert resolved[:4] == ["time.sleep", "requests.get", "requests.post", "requests.Session().put"]
    assert resolved[4] == "urllib.request.urlopen"
    assert (
        "subprocess.Popen().wait" in resolved and "socket.create_connection().sendall" in resolved
    )
    by_line = {f.span.line: f for f in found}
    assert by_line[35].function == "Bot.loop"
    assert by_line[35].confidence > by_line[13].confidence  # in a loop
    assert by_line[27].confidence < 0.5  # a small file read
    assert by_line[28].confidence < 0.5
    assert "await asyncio.sleep" in by_line[13].message


def test_traps() -> None:
    src = """
    import asyncio
    import socket
    import time
    import requests

    def sleep(x):                      # a module function named sleep
        return x

    async def a():
        await asyncio.sleep(1)         # the async one
        await asyncio.to_thread(time.sleep, 1)        # passed, not called
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, requests.get, "http://x")
        sleep(3)                       # the local function above

    async def b(client, session):
        await client.get("http://x")   # an async client, awaited
        data = {"a": 1}
        data.get("a")                  # dict.get
        session.get("http://x")        # unknown object: not assumed to be requests
        def work():
            time.sleep(1)              # runs wherever work() is called
        cb = lambda: time.sleep(1)
        return work, cb

    def sync():
        time.sleep(1)                  # not async
        requests.get("http://x")

    async def shadowed(time):
        time.sleep(1)                  # a parameter named time

    async def nonblocking(sock_factory):
        import socket
        s = socket.socket()
        s.setblocking(False)
        s.connect(("a", 1))

    async def by_hand(raw: socket.socket, path):
        while True:
            try:
                raw.connect(path)      # non-blocking: the code expects BlockingIOError
            except BlockingIOError:
                await asyncio.sleep(0)
            else:
                break
    """
    assert lines(src, SKILL) == []


def test_from_import_resolution_and_trio() -> None:
    src = """
    from time import sleep as nap

    async def a():
        nap(0.01)
    """
    (finding,) = findings(src, SKILL)
    assert finding.fix is not None and finding.fix.safe
    assert fixed(src, SKILL) == (
        "\nimport asyncio\nfrom time import sleep as nap\n\nasync def a():\n"
        "    await asyncio.sleep(0.01)\n"
    )
    trio_src = "import time\nimport trio\n\nasync def a():\n    time.sleep(1)\n"
    assert "    await trio.sleep(1)\n" in fixed(trio_src, SKILL)
    anyio_src = "import time\nimport anyio\nimport asyncio\n\nasync def a():\n    time.sleep(1)\n"
    assert "    await anyio.sleep(1)\n" in fixed(anyio_src, SKILL)
    mixed = "import time\nimport trio\nimport asyncio\n\nasync def a():\n    time.sleep(1)\n"
    (unsure,) = findings(mixed, SKILL)
    assert unsure.fix is None


def test_sleep_fix_behaves_the_same_and_stops_blocking() -> None:
    src = """
    import asyncio
    import time

    async def worker(name, log):
        for i in range(2):
            log.append((name, i))
            time.sleep(0.01)
        return name

    async def main():
        log = []
        names = await asyncio.gather(worker("a", log), worker("b", log))
        return names, log

    async def delayed(x):
        y = time.sleep(0.001) or x * 2
        return y
    """
    after = fixed(src, SKILL)
    assert "        await asyncio.sleep(0.01)\n" in after
    assert "    y = (await asyncio.sleep(0.001)) or x * 2\n" in after
    assert after.count("import asyncio") == 1
    before_names, before_log = run(src, "asyncio.run(main())")
    after_names, after_log = run(after, "asyncio.run(main())")
    assert before_names == after_names == ["a", "b"]
    assert sorted(before_log) == sorted(after_log)
    # blocking: one task runs to the end before the other starts; awaiting: they interleave
    assert before_log == [("a", 0), ("a", 1), ("b", 0), ("b", 1)]
    assert after_log == [("a", 0), ("b", 0), ("a", 1), ("b", 1)]
    assert run(src, "asyncio.run(delayed(4))") == run(after, "asyncio.run(delayed(4))") == 8
    assert lines(after, SKILL) == []


def test_sleep_in_a_comprehension_is_reported_but_not_rewritten() -> None:
    src = """
    import time

    async def a(xs):
        return [time.sleep(0) or x for x in xs]
    """
    (finding,) = findings(src, SKILL)
    assert finding.fix is None


def test_other_calls_get_an_unsafe_to_thread_fix() -> None:
    src = """
    import asyncio
    import subprocess

    async def git_head(cwd):
        out = subprocess.check_output(
            ["git", "rev-parse", "HEAD"],
            cwd=cwd,
        )
        return out.strip()

    async def ask():
        return input()

    async def main():
        return await asyncio.gather(git_head("."), asyncio.sleep(0, "x"))
    """
    found = findings(src, SKILL)
    assert [f.span.line for f in found] == [6, 13]
    assert all(f.fix is not None and not f.fix.safe for f in found)
    assert found[0].fix is not None and "thread-safe" in found[0].fix.note
    assert (
        found[0].fix.title
        == "Run subprocess.check_output() in a worker thread with asyncio.to_thread"
    )
    assert fixed(src, SKILL, only_safe=True) == fixed(src, SKILL, rounds=0)
    after = fixed(src, SKILL)
    assert (
        "    out = await asyncio.to_thread(subprocess.check_output, "
        '["git", "rev-parse", "HEAD"],\n        cwd=cwd)\n'
    ) in after
    assert "    return await asyncio.to_thread(input)\n" in after
    assert run(src, "asyncio.run(main())") == run(after, "asyncio.run(main())")


def test_suppression_and_half_typed_file() -> None:
    src = """
    import time

    async def a():
        time.sleep(1)  # megawatt: ignore[blocking-in-async]

    async def b():  # megawatt: ignore
        time.sleep(1)

    async def c():
        time.sleep(1)

    async def broken(:
        time.sleep(
    """
    assert lines(src, SKILL) == [11]


def test_aiohttp_own_write_bytes_method_is_not_pathlib() -> None:
    # aiohttp/client_reqrep.py: ClientRequest.write_bytes is the class's own coroutine; the
    # old resolution went by the attribute name and offered `asyncio.to_thread` around it
    src = """
    import asyncio
    import sys

    class ClientRequest:
        async def write_bytes(self, writer, conn, content_length):
            await writer.write(self.body)

        async def send(self, conn):
            writer = conn.writer
            if self.body or self._continue is not None:
                coro = self.write_bytes(writer, conn, self._get_content_length())
                if sys.version_info >= (3, 12):
                    task = asyncio.Task(coro, loop=self.loop, eager_start=True)
                else:
                    task = self.loop.create_task(coro)
            else:
                await writer.write_bytes(b"")
                task = None
            return task

        @classmethod
        async def probe(cls, path):
            return cls.read_text(path)

    async def test_cancel_during_expect100_preamble(conn, make_request):
        req = make_request("POST", "http://python.org/", data=b"test data", expect100=True)
        writer = conn.writer
        task = asyncio.create_task(req.write_bytes(writer, conn, None))
        await asyncio.sleep(0)
        task.cancel()
    """
    assert lines(src, SKILL) == []


def test_path_methods_are_resolved_by_what_the_receiver_is_bound_to() -> None:
    src = """
    import pathlib
    from pathlib import Path

    async def load(name, cache_dir: Path, raw):
        config = Path(name).read_text()
        (cache_dir / "last").write_text(config)
        settings = pathlib.Path("settings.toml")
        extra = settings.with_suffix(".local").read_bytes()
        raw.write_bytes(extra)                  # unknown object: any class's write_bytes
        either = Path(name) if name else raw
        either.read_text()                      # bound to a path or to something else
        return config

    async def test_writes(tmp_path):
        (tmp_path / "file").write_bytes(b"0123456789")
    """
    found = findings(src, SKILL, path="test_load.py")
    assert [f.span.line for f in found] == [6, 7, 9, 16]
    resolved = [dict(f.evidence)["resolved"] for f in found]
    assert resolved == [
        "pathlib.Path().read_text",
        "cache_dir.write_text",
        "pathlib.Path().read_bytes",
        "tmp_path.write_bytes",
    ]


def test_non_blocking_is_told_by_the_receiver_not_a_name_ending_in_it() -> None:
    src = """
    import socket

    async def relay(host, port):
        raw_sock = socket.socket()
        raw_sock.setblocking(False)
        sock = socket.create_connection((host, port))
        sock.sendall(b"ping")                   # blocking: only raw_sock is non-blocking
        try:
            raw_sock.connect((host, port))
        except (BlockingIOError, InterruptedError):
            pass
    """
    assert lines(src, SKILL) == [7, 8]  # create_connection blocks too
