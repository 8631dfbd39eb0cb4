"""Whether a project's pytest needs its third-party plugins: read from the configuration file
pytest itself would pick and from the tests' own marks, fixtures and imports. Runs that do not
need them start without plugin autoload (faster, and no foreign code loaded)."""

from __future__ import annotations

import configparser
import os
import re
import shlex
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from megawatt.analyzers.files import SKIP_DIRS
from megawatt.fixes.interpreter import is_venv, read_toml, toml_table

__all__ = ["needs_plugin_autoload", "options_need_plugins"]


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Options and ini keys pytest itself knows: anything else comes from a plugin, which then has to
# be loaded through its entry point (autoload). Unknown means "needed": the safe side.
_BUILTIN_OPTIONS = _words(
    """
    --verbose --quiet --verbosity --exitfirst --maxfail --strict-config --strict-markers --strict
    --fixtures --funcargs --fixtures-per-test --pdb --pdbcls --trace --capture --runxfail
    --last-failed --lf --failed-first --ff --new-first --nf --cache-show --cache-clear
    --last-failed-no-failures --lfnf --stepwise --sw --stepwise-skip --sw-skip --stepwise-reset
    --durations --durations-min --showlocals --no-showlocals --tb --show-capture --full-trace
    --color --code-highlight --pastebin --junit-xml --junitxml --junit-prefix --ignore
    --ignore-glob --deselect --confcutdir --noconftest --keep-duplicates --collect-only --co
    --continue-on-collection-errors --import-mode --doctest-modules --doctest-report
    --doctest-glob --doctest-ignore-import-errors --doctest-continue-on-failure --basetemp
    --version --help --override-ini --assert --setup-only --setup-show --setup-plan --log-level
    --log-format --log-date-format --log-cli-level --log-cli-format --log-cli-date-format
    --log-file --log-file-mode --log-file-level --log-file-format --log-file-date-format
    --log-auto-indent --log-disable --disable-warnings --disable-pytest-warnings --rootdir
    --pyargs --debug --trace-config --no-header --no-summary --no-fold-skipped
    --force-short-summary --xfail-tb --runpytest --inifile --config-file --pythonwarnings
    """
)
_SHORT_WITH_VALUE = frozenset("kmWocr")  # -k EXPR, -rA…, value attached or next
_SHORT_FLAGS = frozenset("xsvqlhV")
_BUILTIN_INI = _words(
    """
    addopts cache_dir console_output_style doctest_encoding doctest_optionflags
    empty_parameter_set_mark enable_assertion_pass_hook faulthandler_timeout
    faulthandler_exit_on_timeout filterwarnings junit_duration_report junit_family
    junit_log_passing_tests junit_logging junit_suite_name log_auto_indent log_cli
    log_cli_date_format log_cli_format log_cli_level log_date_format log_file
    log_file_date_format log_file_format log_file_level log_file_mode log_format log_level markers
    minversion norecursedirs python_classes python_files python_functions pythonpath
    required_plugins testpaths tmp_path_retention_count tmp_path_retention_policy usefixtures
    xfail_strict verbosity_assertions verbosity_test_cases verbosity_subtests
    truncation_limit_chars truncation_limit_lines consider_namespace_packages strict
    strict_config strict_markers strict_parametrization_ids strict_xfail collect_imported_tests
    disable_test_id_escaping_and_forfeit_all_rights_to_community_support
    """
)
# What test code uses from popular plugins: their marks, fixtures, and imports
_PLUGIN_MARK = re.compile(
    r"\bpytest\.mark\.(?:asyncio|anyio|trio|django_db|timeout|flaky|benchmark|vcr|httpx_mock|"
    r"freeze_time|order|dependency|repeat|xdist_group|celery|allow_hosts|enable_socket|"
    r"disable_socket|default_cassette|block_network)\b"
)
_PLUGIN_IMPORT = re.compile(r"(?m)^\s*(?:from|import)\s+(?:pytest_(?!plugins\b)\w+|xdist)\b")
_SIGNATURE = re.compile(r"\bdef\s+\w+\s*\(([^)]*)\)")
_PLUGIN_FIXTURES = _words(
    """
    mocker class_mocker module_mocker package_mocker session_mocker benchmark httpx_mock
    requests_mock respx_mock aioresponses freezer time_machine snapshot event_loop
    event_loop_policy unused_tcp_port anyio_backend qtbot datadir shared_datadir faker fs db
    transactional_db django_db_setup django_user_model rf admin_client admin_user live_server
    aiohttp_client aiohttp_server celery_app celery_worker xprocess docker_services httpserver
    cov no_cover socket_disabled socket_enabled vcr vcr_cassette
    """
)
_MAX_SCANNED_FILES = 3000
_MAX_SCANNED_BYTES = 32 * 1024 * 1024
_MAX_FILE_READ = 512 * 1024


_LONG_WITH_VALUE = _words(
    """
    --maxfail --verbosity --capture --durations --durations-min --tb --show-capture --color
    --code-highlight --pastebin --junit-xml --junitxml --junit-prefix --ignore --ignore-glob
    --deselect --confcutdir --import-mode --doctest-report --doctest-glob --basetemp
    --override-ini --assert --log-level --log-format --log-date-format --log-cli-level
    --log-cli-format --log-cli-date-format --log-file --log-file-mode --log-file-level
    --log-file-format --log-file-date-format --log-auto-indent --log-disable --rootdir --pdbcls
    --config-file --inifile --pythonwarnings
    """
)


def options_need_plugins(args: Sequence[str]) -> bool:
    """Whether pytest command-line options (addopts, PYTEST_ADDOPTS) include a plugin's."""
    rest = iter(args)
    for arg in rest:
        if arg == "--":
            break
        if arg.startswith("--"):
            name, eq, _ = arg.partition("=")
            if name not in _BUILTIN_OPTIONS:
                return True
            if not eq and name in _LONG_WITH_VALUE:
                next(rest, None)
        elif arg.startswith("-") and len(arg) > 1:
            letter, attached = arg[1], arg[2:]
            if letter == "p":
                if not (attached or next(rest, "")).startswith("no:"):
                    return True  # a plugin by name
            elif letter in _SHORT_WITH_VALUE:
                if not attached and letter != "r":
                    next(rest, None)
            elif not set(arg[1:]) <= _SHORT_FLAGS:
                return True  # -n 4 (xdist) and the like
    return False


def _pytest_ini(root: Path) -> dict[str, Any] | None:
    """The project's pytest settings, from the file pytest itself would pick; None if none."""
    for name, section in (
        ("pytest.ini", "pytest"),
        (".pytest.ini", "pytest"),
        ("pyproject.toml", None),
        ("tox.ini", "pytest"),
        ("setup.cfg", "tool:pytest"),
    ):
        path = root / name
        if not path.is_file():
            continue
        if section is None:
            pytest_table = toml_table(read_toml(path), "tool", "pytest")
            if not pytest_table:
                continue
            options = pytest_table.pop("ini_options", None)
            # pytest 9 reads [tool.pytest] itself with native types; older, ini_options
            return dict(options) if isinstance(options, dict) else pytest_table
        parser = configparser.ConfigParser(interpolation=None)
        try:
            parser.read(path, encoding="utf-8")
        except (configparser.Error, UnicodeDecodeError):
            return {}  # pytest would refuse it: nothing the sandbox could fix
        if parser.has_section(section):
            return dict(parser.items(section))
        if name in ("pytest.ini", ".pytest.ini"):
            return {}  # it counts even when empty
    return None


def _config_needs_plugins(options: Mapping[str, Any]) -> bool:
    for key, value in options.items():
        if key not in _BUILTIN_INI:
            return True  # asyncio_mode, timeout, DJANGO_SETTINGS_MODULE, env…
        if key == "required_plugins" and value:
            return True
        if key == "addopts":
            args = value if isinstance(value, list) else shlex.split(str(value), posix=True)
            if options_need_plugins([str(a) for a in args]):
                return True
    return False


def _test_sources(root: Path) -> Iterator[Path]:
    for folder, dirnames, filenames in os.walk(root):
        dirnames[:] = [
            d for d in dirnames if d not in SKIP_DIRS and not is_venv(os.path.join(folder, d))
        ]
        for name in filenames:
            if name == "conftest.py" or (
                name.endswith(".py") and (name.startswith("test_") or name.endswith("_test.py"))
            ):
                yield Path(folder, name)


def _source_needs_plugins(text: str) -> bool:
    if _PLUGIN_MARK.search(text) or _PLUGIN_IMPORT.search(text):
        return True
    for params in _SIGNATURE.findall(text):
        for param in params.split(","):
            name = param.split(":", 1)[0].split("=", 1)[0].strip().lstrip("*")
            if name in _PLUGIN_FIXTURES:
                return True
    return False


def needs_plugin_autoload(root: Path) -> bool:
    """Whether the project's tests need pytest plugins loaded through their entry points: its
    pytest configuration names a plugin's option or setting, or its tests use a popular plugin's
    marks, fixtures or modules. True when unsure (too many test files to read)."""
    root = Path(root)
    options = _pytest_ini(root)
    if options is not None and _config_needs_plugins(options):
        return True
    files = read = 0
    for path in _test_sources(root):
        files += 1
        if files > _MAX_SCANNED_FILES or read > _MAX_SCANNED_BYTES:
            return True
        try:
            with open(path, "rb") as f:
                data = f.read(_MAX_FILE_READ)
        except OSError:
            continue
        read += len(data)
        if _source_needs_plugins(data.decode("utf-8", "replace")):
            return True
    return False
