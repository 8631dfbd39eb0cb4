"""Every kind of bad file gives one clear error naming the file and the problem."""

from __future__ import annotations

import gzip
import os
import subprocess
import sys
from pathlib import Path

import pytest

from megawatt.errors import ProfileError, ProfileFormatError, UnknownProfileFormat
from megawatt.profiles import load, load_many


def _expect(path: Path, kind: type[ProfileError], *fragments: str, **kw: int) -> None:
    with pytest.raises(kind) as info:
        load(path, **kw)
    message = str(info.value)
    assert message.startswith(f"{path}: "), message
    for fragment in fragments:
        assert fragment in message, message
    assert info.value.path == str(path)


def test_missing_empty_and_directory(tmp_path: Path) -> None:
    _expect(tmp_path / "nope.prof", ProfileFormatError, "no such file")
    (tmp_path / "empty.json").write_bytes(b"")
    _expect(tmp_path / "empty.json", ProfileFormatError, "file is empty")
    _expect(tmp_path, ProfileFormatError, "directory")


def test_unknown_content(tmp_path: Path) -> None:
    (tmp_path / "a.prof").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(40)))
    _expect(
        tmp_path / "a.prof", UnknownProfileFormat, "not a profile Megawatt can read", "89 50 4e 47"
    )
    (tmp_path / "b.json").write_text('{"name": "package.json", "version": "1.0"}')
    _expect(tmp_path / "b.json", UnknownProfileFormat, "JSON that is not", "name, version")
    (tmp_path / "c.json").write_text("[1, 2, 3]")
    _expect(tmp_path / "c.json", UnknownProfileFormat, "JSON list")


def test_truncated_json_says_so(tmp_path: Path) -> None:
    (tmp_path / "t.json").write_text(
        '{"$schema": "https://www.speedscope.app/file-format-schema.json", "shar'
    )
    _expect(tmp_path / "t.json", ProfileFormatError, "invalid JSON", "truncated")


def test_truncated_and_corrupt_gzip(tmp_path: Path) -> None:
    data = gzip.compress(b"main;work 10\n" * 1000)
    (tmp_path / "cut.gz").write_bytes(data[: len(data) // 2])
    _expect(tmp_path / "cut.gz", ProfileFormatError, "gzip data is truncated or corrupt")
    (tmp_path / "ok.gz").write_bytes(data)
    assert load(tmp_path / "ok.gz").total_weight == 10_000


def test_enormous_file_is_refused_before_reading(tmp_path: Path) -> None:
    huge = tmp_path / "huge.pstats"
    with huge.open("wb") as f:  # sparse: 3 GB on paper, nothing on disk
        f.truncate(3 * 1024**3)
    _expect(huge, ProfileFormatError, "over the", "MB limit")
    small_limit = tmp_path / "small.txt"
    small_limit.write_text("main;work 10\n" * 200)
    _expect(small_limit, ProfileFormatError, "limit", max_bytes=100)


# Root reads every file whatever its mode: as root, the load runs in a process that keeps uid 0
# but loses the capabilities that override file permissions (CI runs as root)
NO_OVERRIDE = ["setpriv", "--inh-caps=-dac_override,-dac_read_search",
               "--bounding-set=-dac_override,-dac_read_search"]  # fmt: skip
LOAD = """
import sys
from megawatt.errors import ProfileFormatError
from megawatt.profiles import load
try:
    load(sys.argv[1])
except ProfileFormatError as err:
    print(err)
"""


def test_unreadable_file(tmp_path: Path) -> None:
    locked = tmp_path / "locked.prof"
    locked.write_bytes(b"x")
    locked.chmod(0)
    if os.geteuid() != 0:
        _expect(locked, ProfileFormatError, "cannot read")
        return
    proc = subprocess.run(
        [*NO_OVERRIDE, sys.executable, "-c", LOAD, str(locked)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith(f"{locked}: ") and "cannot read" in proc.stdout, proc.stdout


def test_load_many_keeps_the_good_ones(shop_pstats: Path, tmp_path: Path) -> None:
    (tmp_path / "bad.prof").write_bytes(b"\xfb\x00\x00")
    result = load_many([tmp_path / "bad.prof", shop_pstats, tmp_path / "missing.prof"])
    assert [p.source for p in result.profiles] == [str(shop_pstats)]
    assert [e.path for e in result.errors] == [
        str(tmp_path / "bad.prof"),
        str(tmp_path / "missing.prof"),
    ]


def test_gzip_bomb_is_stopped_at_the_limit(tmp_path: Path) -> None:
    bomb = tmp_path / "bomb.gz"
    bomb.write_bytes(gzip.compress(b"\0" * (50 * 1024**2)))  # 50 MB of zeros in ~50 KB
    assert bomb.stat().st_size < 1024**2
    _expect(bomb, ProfileFormatError, "decompresses to over the", max_bytes=1024**2)
