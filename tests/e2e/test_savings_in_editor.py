"""The editor says where an estimate comes from: each profiled opportunity's diagnostic carries
the evidence its savings were read from, and its severity follows those savings."""

from __future__ import annotations

from pathlib import Path

from lsprotocol import types as T
from pytest_lsp import LanguageClient

from tests.e2e.test_server import find, open_and_wait


async def test_diagnostics_carry_the_evidence_of_their_savings(client: LanguageClient) -> None:
    root: Path = client.workspace_root  # type: ignore[attr-defined]
    diags = await open_and_wait(client, root / "shop.py")
    (deepcopy,) = find(diags, "deepcopy-in-hot-path")
    # the workspace merges a cProfile recording (calls) with a py-spy one (lines)
    assert "est. savings " in deepcopy.message, deepcopy.message
    assert "copy.deepcopy called " in deepcopy.message and "from here" in deepcopy.message
    (memo,) = find(diags, "memoize")
    assert "edit_distance() takes " in memo.message and "caching its results" in memo.message
    assert memo.severity == T.DiagnosticSeverity.Warning
    for d in diags:
        if d.code == "hot-function" or "est. savings " not in d.message:
            continue
        cold = ": cold)" in d.message
        # a line the profile shows cold is never a Warning, however hot its function
        assert not (cold and d.severity == T.DiagnosticSeverity.Warning), d.message


async def test_hover_shows_the_estimate_and_its_evidence(client: LanguageClient) -> None:
    root: Path = client.workspace_root  # type: ignore[attr-defined]
    diags = await open_and_wait(client, root / "shop.py")
    (deepcopy,) = find(diags, "deepcopy-in-hot-path")
    hover = await client.text_document_hover_async(
        T.HoverParams(T.TextDocumentIdentifier((root / "shop.py").as_uri()), deepcopy.range.start)
    )
    assert hover is not None
    value = hover.contents.value  # type: ignore[union-attr]
    assert "*Estimated savings " in value and "copy.deepcopy called " in value, value
