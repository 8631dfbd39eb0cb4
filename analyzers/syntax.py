"""Whether a file is Python at all: undecodable bytes and syntax errors, with where they are.

The analysis itself never stops at them (tree-sitter recovers, and findings in the code around an
error are still real), but a user must be told that part of a file was not understood, and `fix`
must not blame its own rewrite for an error the file had before.
"""

from __future__ import annotations

import io
import tokenize
import warnings
from dataclasses import dataclass

from tree_sitter import Tree

from megawatt.analyzers.parsing import parse

SYNTAX, ENCODING = "syntax", "encoding"


@dataclass(frozen=True, slots=True)
class SourceProblem:
    """Why (part of) a file is not Python: 1-based line and column (in code points)."""

    path: str
    line: int
    column: int
    message: str
    kind: str = SYNTAX  # SYNTAX or ENCODING

    @property
    def label(self) -> str:
        return "syntax error" if self.kind == SYNTAX else "cannot decode"


def _position(source: bytes, offset: int) -> tuple[int, int]:
    line = source.count(b"\n", 0, offset) + 1
    start = source.rfind(b"\n", 0, offset) + 1
    return line, len(source[start:offset].decode("utf-8", "replace")) + 1


def decode_problem(path: str, source: bytes) -> SourceProblem | None:
    """Bytes that are not text in the file's declared encoding (PEP 263: UTF-8 unless a BOM or
    a coding line says otherwise). CPython's `compile` lets some through (in comments), but the
    interpreter refuses to run such a file, and the analysis would read replacement characters."""
    if source.isascii():
        return None
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(source).readline)
    except SyntaxError as err:
        # an unknown encoding on the coding line, a BOM contradicting it, or undecodable bytes
        # in the first two lines (where a coding line would be): the byte is the better answer
        encoding, declared = "utf-8", err
    else:
        declared = None
    try:
        source.decode(encoding)
    except UnicodeDecodeError as err:
        line, column = _position(source, err.start)
        what = f"byte 0x{source[err.start : err.start + 1].hex()}: {err.reason}"
        if encoding.startswith("utf-8"):
            message = f"not UTF-8 ({what}) and no other encoding is declared"
        else:
            message = f"not {encoding}, the encoding its coding line declares ({what})"
        return SourceProblem(path, line, column, message, ENCODING)
    if declared is not None:
        return SourceProblem(path, declared.lineno or 1, 1, str(declared.msg), ENCODING)
    return None


def compile_problem(path: str, source: bytes) -> SourceProblem | None:
    """What CPython's compiler says about the file, or None when it compiles."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # SyntaxWarnings (invalid escapes…) are not errors
            compile(source, path, "exec", dont_inherit=True)
    except SyntaxError as err:
        return SourceProblem(path, err.lineno or 1, max(err.offset or 1, 1), str(err.msg))
    except ValueError as err:  # a NUL byte, before Python 3.12 made that a SyntaxError
        nul = source.find(b"\0")
        line, column = _position(source, nul) if nul >= 0 else (1, 1)
        return SourceProblem(path, line, column, str(err))
    return None


def source_problem(path: str, source: bytes, tree: Tree | None = None) -> SourceProblem | None:
    """The first reason the file is not valid Python that a parse shows. The compiler is asked
    only when tree-sitter met an error (rare), so clean files cost one ASCII check; errors only
    the compiler finds (`return` outside a function) are left to `compile_problem`."""
    problem = decode_problem(path, source)
    if problem is not None:
        return problem
    root = (tree if tree is not None else parse(source)).root_node
    if not root.has_error:
        return None
    # None here means tree-sitter's grammar lags CPython's: the file is fine
    return compile_problem(path, source)
