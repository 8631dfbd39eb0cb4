"""workspace/executeCommand: record and reload profiles, scan the workspace, show a skill."""

from __future__ import annotations

import asyncio
from pathlib import Path

from lsprotocol import types as T

from megawatt.server import progress
from megawatt.server.server import MegawattServer, guarded, uri_path

RECORD = "megawatt.recordProfile"
RELOAD = "megawatt.reloadProfiles"
SCAN = "megawatt.scanWorkspace"
SHOW_SKILL = "megawatt.showSkill"
SHOW_FUNCTION = "megawatt.showFunction"


def _folder_root(ls: MegawattServer, uri: str | None) -> Path:
    if uri:
        return ls.folder_for(uri_path(uri)).root
    if ls.session.folders:
        return Path(next(iter(ls.session.folders)))
    return Path.cwd()


def register(server: MegawattServer) -> None:
    @server.command(RECORD)
    @guarded(server, "recording a profile")
    async def record_profile(ls: MegawattServer, *args: object) -> str | None:
        from megawatt.profiles.record import record

        if not ls.session.trusted:  # the command comes from the workspace's own settings
            ls.info(
                "Megawatt: this workspace is not trusted: in a restricted window Megawatt runs "
                "no profile-recording command; trust the workspace to record profiles",
                show=True,
            )
            return None
        root = _folder_root(ls, str(args[0]) if args else None)
        folder = ls.folder_for(str(root / "pyproject.toml"))
        command = list(folder.settings.profile_command)
        if not command:
            ls.warn_once(
                "no-profile-command",
                "Megawatt: set megawatt.profileCommand (or [tool.megawatt] profile-command) to "
                'the command to profile, e.g. ["python", "-m", "myapp"]',
            )
            return None
        token = await progress.begin(
            ls, f"Megawatt: profiling {' '.join(command)}", percentage=None
        )
        loop = asyncio.get_running_loop()
        try:
            rec = await loop.run_in_executor(
                ls.io_pool,
                lambda: record(
                    command,
                    folder.settings.profiler,
                    root / ".megawatt" / "profiles",
                    cwd=root,
                    quiet=True,
                ),
            )
        except Exception as err:
            progress.end(ls, token, "failed")
            ls.window_show_message(
                T.ShowMessageParams(type=T.MessageType.Error, message=f"Megawatt: {err}")
            )
            return None
        # the job ends when the new figures are in use, not when the file is written: a bar that
        # ended before them would leave the old diagnostics looking like the result
        progress.report(ls, token, f"reading {rec.profile.name}")
        try:
            await loop.run_in_executor(ls.io_pool, ls.reload_profiles)
        finally:
            progress.end(ls, token, f"{rec.profile.name} in {rec.seconds:.1f} s")
        ls.refresh_all()
        return str(rec.profile)

    @server.command(RELOAD)
    @guarded(server, "reloading profiles")
    async def reload(ls: MegawattServer, *args: object) -> int:
        loop = asyncio.get_running_loop()
        folders = await loop.run_in_executor(ls.io_pool, ls.reload_profiles)
        ls.refresh_all()
        loaded = sum(1 for f in folders if f.profile is not None)
        ls.info(f"Megawatt: reloaded profiles of {len(folders)} folder(s), {loaded} with a profile")
        return loaded

    @server.command(SCAN)
    @guarded(server, "scanning the workspace")
    async def scan_workspace(ls: MegawattServer, *args: object) -> str | None:
        from megawatt.analyzers.scan import default_cache_dir
        from megawatt.scanner import run_scan

        root = _folder_root(ls, str(args[0]) if args else None)
        folder = ls.folder_for(str(root / "pyproject.toml"))
        token = await progress.begin(ls, "Megawatt: scanning the workspace")

        def files_done(done: int, total: int) -> None:
            if token is not None and total:
                ls.work_done_progress.report(
                    token,
                    T.WorkDoneProgressReport(
                        message=f"{done}/{total} files", percentage=int(done * 100 / total)
                    ),
                )

        loop = asyncio.get_running_loop()
        report = await loop.run_in_executor(
            ls.io_pool,
            lambda: run_scan(
                [root],
                root,
                folder.settings,
                select=folder.settings.select,
                ignore=folder.settings.ignore,
                cache_dir=default_cache_dir(),
                jobs=1,
                progress=files_done,
            ),
        )
        out = root / ".megawatt" / "report.md"
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(_report_markdown(report, root), encoding="utf-8")
        progress.end(ls, token, _found(len(report.opportunities), report.files))
        try:
            await asyncio.wait_for(
                ls.window_show_document_async(
                    T.ShowDocumentParams(uri=out.as_uri(), take_focus=True)
                ),
                5,
            )
        except Exception:
            ls.info(f"Megawatt: report written to {out}", show=True)
        return str(out)

    @server.command(SHOW_SKILL)
    @guarded(server, "showing a skill")
    async def show_skill(ls: MegawattServer, skill_id: str) -> str | None:
        from megawatt.skills import load_skills

        skill = load_skills(_folder_root(ls, None)).get(skill_id)
        if skill is None:
            ls.window_show_message(
                T.ShowMessageParams(type=T.MessageType.Warning, message=f"No skill {skill_id!r}")
            )
            return None
        try:
            await asyncio.wait_for(
                ls.window_show_document_async(T.ShowDocumentParams(uri=skill.path.as_uri())), 5
            )
        except Exception:
            ls.info(f"Megawatt skill {skill_id}: {skill.path}", show=True)
        return str(skill.path)

    @server.command(SHOW_FUNCTION)
    @guarded(server, "showing a function")
    def show_function(ls: MegawattServer, uri: str, line: int) -> str | None:
        from megawatt.server.requests.hover import hot_markdown

        state = ls.session.documents.get(uri)
        if state is None or state.analysis is None:
            return None
        folder = ls.folder_for(state.path)
        # the profile this analysis matched: its ids mean nothing in one reloaded since
        profile = state.analysis.profile
        for h in state.analysis.hot:
            if h.definition.line == line and profile is not None:
                text = hot_markdown(folder, h, profile)
                ls.window_show_message(
                    T.ShowMessageParams(
                        type=T.MessageType.Info, message=text.replace("**", "").replace("`", "")
                    )
                )
                return text
        return None


def _found(opportunities: int, files: int) -> str:
    # not megawatt.cli.render.plural: the server does not import the CLI (and click with it)
    found = "1 opportunity" if opportunities == 1 else f"{opportunities} opportunities"
    return f"{found} in {'1 file' if files == 1 else f'{files} files'}"


def _report_markdown(report, root: Path) -> str:  # type: ignore[no-untyped-def]
    import os

    lines = [
        "# Megawatt report",
        "",
        f"{_found(len(report.opportunities), report.files)}.",
        "",
    ]
    if report.hot_functions:
        lines += [
            "## Hot functions",
            "",
            "| total | self | function | where |",
            "|---|---|---|---|",
        ]
        for h in report.hot_functions[:20]:
            where = os.path.relpath(h.workspace_path or h.path, root)
            lines.append(
                f"| {h.total_share:.1%} | {h.self_share:.1%} | `{h.function}` | {where}:{h.workspace_line or h.line} |"
            )
        lines.append("")
    lines += [
        "## Opportunities, best first",
        "",
        "| saves | skill | where | message |",
        "|---|---|---|---|",
    ]
    for o in report.opportunities:
        f = o.finding
        where = os.path.relpath(f.path, root)
        saves = f"{o.estimated_savings:.1%}" if o.estimated_savings else "-"
        lines.append(
            f"| {saves} | {f.skill} | [{where}:{f.span.line}]({Path(f.path).as_uri()}#L{f.span.line}) | {f.message} |"
        )
    return "\n".join(lines) + "\n"
