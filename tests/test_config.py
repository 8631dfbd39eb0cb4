"""`[tool.megawatt]`: defaults, aliases, unknown keys and invalid values."""

from __future__ import annotations

from pathlib import Path

import pytest

from megawatt.config import Settings, find_project_root, load_settings, parse_settings
from megawatt.errors import ConfigError


def test_defaults_without_pyproject(tmp_path: Path) -> None:
    settings, warnings = load_settings(tmp_path)
    assert settings == Settings()
    assert settings.profiles == [".megawatt/profiles"] and warnings == []


def test_kebab_and_snake_case(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        "[tool.megawatt]\nprofiles = ['prof/a.json']\npath-map = { '/app' = 'src' }\n"
        "hot_threshold = 0.05\nmax-profile-mb = 10\n[tool.megawatt.llm]\nenabled = false\n"
    )
    settings, warnings = load_settings(tmp_path)
    assert settings.profiles == ["prof/a.json"]
    assert settings.path_map == {"/app": "src"}
    assert settings.hot_threshold == 0.05
    assert settings.max_profile_bytes == 10 * 1024 * 1024
    assert warnings == []  # a sub-table is not an unknown key


def test_unknown_keys_are_named(tmp_path: Path) -> None:
    _settings, warnings = parse_settings({"profile": ["x"], "tresh": 1}, "pyproject.toml")
    assert warnings == [
        "pyproject.toml: unknown key 'profile' in [tool.megawatt] (ignored)",
        "pyproject.toml: unknown key 'tresh' in [tool.megawatt] (ignored)",
    ]


def test_invalid_values_name_the_key(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"profiler: Value error, must be one of"):
        parse_settings({"profiler": "perf"}, "p")
    (tmp_path / "pyproject.toml").write_text("[tool.megawatt\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_settings(tmp_path)


def test_project_root_is_found_upwards(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("")
    deep = tmp_path / "a" / "b"
    deep.mkdir(parents=True)
    assert find_project_root(deep) == tmp_path.resolve()


def test_llm_settings_from_the_project_and_the_editor(tmp_path: Path) -> None:
    from megawatt.server.settings import resolve

    (tmp_path / "pyproject.toml").write_text(
        "[tool.megawatt.llm]\nmodel = 'claude-opus-4-8'\nmax-tokens = 2000\n"
    )
    base, problems = resolve(tmp_path)
    assert not base.llm.enabled and base.llm.model == "claude-opus-4-8" and problems == []
    # VS Code sends every key, an unset model as "": the project's model stays
    editor = {"llm": {"enabled": True, "model": "", "apiKey": "sk-ant-never-a-setting"}}
    settings, problems = resolve(tmp_path, editor)
    assert settings.llm.enabled and settings.llm.model == "claude-opus-4-8"
    assert settings.llm.max_tokens == 2000 and problems == []
    assert "sk-ant" not in settings.model_dump_json()
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "pyproject.toml").write_text("[tool.megawatt.llm]\nenabled = 'yes please'\n")
    with pytest.raises(ConfigError, match=r"llm\.enabled"):
        load_settings(bad)
