"""Skills: one folder per opportunity class, SKILL.md (expertise) + an optional rewrite.py.

Built-in skills live beside this file; a project adds or overrides them in `.megawatt/skills/`.
A malformed skill is reported with its file and key, and every other skill still loads. Project
skills carry guidance only: Megawatt never executes code from the repository it analyses, so a
project `rewrite.py` is ignored.
"""

from __future__ import annotations

import importlib.util
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any

import yaml
from pydantic import ValidationError

from megawatt.skills.model import Skill, SkillFrontMatter

BUILTIN_DIR = Path(__file__).parent
PROJECT_DIR = Path(".megawatt") / "skills"
_FRONT = re.compile(r"\A---\s*\n(.*?)\n---\s*(?:\n|\Z)(.*)\Z", re.S)

__all__ = ["Skill", "SkillSet", "builtin_skills", "load_skill", "load_skills"]


class SkillError(Exception):
    pass


# libyaml's loader where the wheel has it: the pure-Python one costs every scan worker 0.15 s
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_skill(path: Path, origin: str) -> Skill:
    """One SKILL.md; raises SkillError naming the file and the key at fault."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise SkillError(f"{path}: cannot read ({err})") from None
    match = _FRONT.match(text)
    if match is None:
        raise SkillError(f"{path}: no YAML front matter (a block between '---' lines at the top)")
    try:
        data = yaml.load(match.group(1), Loader=_LOADER)
    except yaml.YAMLError as err:
        raise SkillError(f"{path}: front matter is not valid YAML ({err})") from None
    if not isinstance(data, dict):
        raise SkillError(f"{path}: front matter must be a mapping of keys")
    try:
        meta = SkillFrontMatter.model_validate(data)
    except ValidationError as err:
        problems = "; ".join(
            f"key '{'.'.join(str(p) for p in e['loc'])}': {e['msg']}" for e in err.errors()
        )
        raise SkillError(f"{path}: {problems}") from None
    if origin == "builtin" and meta.name != path.parent.name:
        raise SkillError(
            f"{path}: key 'name' is {meta.name!r} but the folder is {path.parent.name!r}"
        )
    rewrite = path.parent / "rewrite.py"
    return Skill(
        meta=meta,
        body=match.group(2).strip(),
        path=path,
        origin="builtin" if origin == "builtin" else "project",
        rewrite_path=rewrite if origin == "builtin" and rewrite.is_file() else None,
    )


@dataclass
class SkillSet:
    skills: dict[str, Skill] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)

    def get(self, skill_id: str) -> Skill | None:
        return self.skills.get(skill_id)

    def for_trigger(self, detector_id: str) -> Skill | None:
        skill = self.skills.get(detector_id)
        if skill is not None and skill.meta.trigger == detector_id:
            return skill
        return next((s for s in self.skills.values() if s.meta.trigger == detector_id), None)


def _scan(folder: Path, origin: str, into: SkillSet) -> None:
    if not folder.is_dir():
        return
    for md in sorted(folder.glob("*/SKILL.md")):
        try:
            skill = load_skill(md, origin)
        except SkillError as err:
            into.errors.append(str(err))
            continue
        base = into.skills.get(skill.id)
        if origin == "project" and base is not None and skill.meta.mode == "extend":
            body = f"{base.body}\n\n## Project guidance ({md})\n\n{skill.body}"
            skill = base.model_copy(update={"body": body})
        into.skills[skill.id] = skill


@cache
def builtin_skills() -> SkillSet:
    found = SkillSet()
    _scan(BUILTIN_DIR, "builtin", found)
    return found


def load_skills(project_root: Path | None = None) -> SkillSet:
    """Built-in skills, then the project's `.megawatt/skills/` over them."""
    base = builtin_skills()
    if project_root is None or not (project_root / PROJECT_DIR).is_dir():
        return base
    merged = SkillSet(dict(base.skills), list(base.errors))
    _scan(project_root / PROJECT_DIR, "project", merged)
    return merged


Rewrite = Callable[..., Any]


@cache
def _rewrite_module(path: Path) -> ModuleType:
    name = "megawatt.skills._rewrite_" + path.parent.name.replace("-", "_")
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise SkillError(f"{path}: cannot be imported")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def rewrite_for(skill: Skill) -> Rewrite | None:
    """The skill's deterministic `rewrite(ctx, finding) -> Fix | None`, if it has one."""
    if skill.rewrite_path is None:
        return None
    fn = getattr(_rewrite_module(skill.rewrite_path), "rewrite", None)
    return fn if callable(fn) else None
