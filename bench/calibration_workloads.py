"""The calibration's workloads: the bundled example and two real PyPI projects with a driver.

A project's source distribution is fetched once with `pip download --no-deps --no-binary :all:`
into a cache the bench owns ($MEGAWATT_BENCH_SDISTS, default ~/.cache/megawatt-bench/sdists)
and unpacked into a fresh working copy for every run, so fixes never touch the cache. Each
driver prints one digest of everything the workload produced: a fix that changes any output
changes the digest.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import sys
import tarfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

ENV_VAR = "MEGAWATT_BENCH_SDISTS"
DRIVER = "_megawatt_calibration_driver.py"
EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "shop.py"


@dataclass(frozen=True)
class Workload:
    """`prepare` fills an empty working copy; `argv` runs there (after the interpreter);
    `scan` names the paths, inside the copy, whose findings are calibrated."""

    name: str
    prepare: Callable[[Path], None]
    argv: list[str]
    scan: list[str]
    about: str = ""
    env: dict[str, str] = field(default_factory=dict)


def cache_dir() -> Path:
    given = os.environ.get(ENV_VAR)
    if given:
        return Path(given).expanduser()
    return Path.home() / ".cache" / "megawatt-bench" / "sdists"


def sdist(name: str, version: str) -> Path:
    """The project's source archive, downloaded on first use (locked: two benches may race)."""
    folder = cache_dir()
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        found = sorted(folder.glob(f"{name}-{version}.tar.gz"))
        if found:
            return found[0]
        print(f"calibration: downloading {name}=={version} (source) …", file=sys.stderr)
        proc = subprocess.run(
            [sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:",
             "--disable-pip-version-check", "-q", "-d", str(folder), f"{name}=={version}"],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        found = sorted(folder.glob(f"{name}-{version}.tar.gz"))
        if proc.returncode != 0 or not found:
            raise RuntimeError(f"pip download {name}=={version} failed: {proc.stderr[-1500:]}")
        return found[0]


def _unpack(archive: Path, into: Path) -> None:
    with tarfile.open(archive) as tar:
        top = tar.getmembers()[0].name.split("/")[0]
        tar.extractall(into.parent / ".unpack", filter="data")
    shutil.copytree(into.parent / ".unpack" / top, into, dirs_exist_ok=True)
    shutil.rmtree(into.parent / ".unpack")


def example(quick: bool) -> Workload:
    orders = 1000 if quick else 2000

    def prepare(work: Path) -> None:
        work.mkdir(parents=True, exist_ok=True)
        shutil.copy(EXAMPLE, work / "shop.py")

    return Workload("example", prepare, ["shop.py", str(orders)], ["shop.py"],
                    f"examples/shop.py {orders}")  # fmt: skip


# Renders mistune's own benchmark cases, its docs and README with the full plugin set and with
# the default renderer, `reps` times.
MISTUNE_DRIVER = """\
import hashlib, sys
from pathlib import Path
here = Path(__file__).parent
sys.path.insert(0, str(here / "src"))
import mistune
reps = int(sys.argv[1])
texts = [p.read_text(encoding="utf-8") for p in sorted((here / "benchmark" / "cases").glob("*.txt"))]
texts += [p.read_text(encoding="utf-8") for p in sorted((here / "docs").glob("*.rst"))]
texts.append((here / "README.rst").read_text(encoding="utf-8"))
md = mistune.create_markdown(escape=False, plugins=["url", "abbr", "ruby", "strikethrough",
    "mark", "insert", "subscript", "superscript", "footnotes", "def_list", "math", "table",
    "task_lists", "spoiler"])
digest = hashlib.sha256()
for _ in range(reps):
    for t in texts:
        digest.update(md(t).encode())
        digest.update(mistune.html(t).encode())
print(digest.hexdigest())
"""

# Formats and parses sqlparse's test SQL files plus generated queries with joins, subqueries,
# grouping and several statements per string, `reps` times.
SQLPARSE_DRIVER = """\
import hashlib, sys
from pathlib import Path
here = Path(__file__).parent
sys.path.insert(0, str(here))
import sqlparse
reps = int(sys.argv[1])
texts = [p.read_text(encoding="utf-8", errors="replace")
         for p in sorted((here / "tests" / "files").glob("*.sql"))]
for n in range(40):
    cols = ", ".join(f"t{n % 3}.col_{i} AS c{i}" for i in range(n % 7 + 2))
    texts.append(f"select {cols} from orders t0 join items t1 on t0.id = t1.order_id "
                 f"left join users t2 on t2.id = t0.user_id where t0.total > {n} and "
                 f"t2.name like 'a%' group by t0.id having count(*) > {n % 5} order by "
                 f"t0.created desc limit {n + 1}; insert into log (id, msg) values ({n}, "
                 f"'row {n}'); update items set qty = qty - 1 where id in (select item_id "
                 f"from picks where batch = {n});")
digest = hashlib.sha256()
for _ in range(reps):
    for t in texts:
        digest.update(sqlparse.format(t, reindent=True, keyword_case="upper",
                                      identifier_case="lower").encode())
        for stmt in sqlparse.parse(t):
            digest.update(repr([(tok.ttype, tok.value) for tok in stmt.flatten()]).encode())
            digest.update(str(stmt.get_type()).encode())
print(digest.hexdigest())
"""


def pypi_project(name: str, version: str, driver: str, reps: int, scan: str) -> Workload:
    def prepare(work: Path) -> None:
        _unpack(sdist(name, version), work)
        (work / DRIVER).write_text(driver, encoding="utf-8")

    return Workload(f"{name}-{version}", prepare, [DRIVER, str(reps)], [scan],
                    f"{name} {version}, driver ×{reps}")  # fmt: skip


def mistune(quick: bool) -> Workload:
    # ~0.05 s a repetition here: 30 make a run of ~1.5 s, enough samples for py-spy at 250 Hz
    return pypi_project("mistune", "3.4.0", MISTUNE_DRIVER, 10 if quick else 30, "src/mistune")


def sqlparse(quick: bool) -> Workload:
    return pypi_project("sqlparse", "0.6.1", SQLPARSE_DRIVER, 1 if quick else 2, "sqlparse")


def all_workloads(quick: bool) -> list[Workload]:
    return [example(quick), mistune(quick), sqlparse(quick)]
