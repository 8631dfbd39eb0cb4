"""`ToolError`: what a tool says when it cannot answer, in words a model can act on."""

from __future__ import annotations

from megawatt.errors import MegawattError

__all__ = ["ToolError"]


class ToolError(MegawattError):
    """A tool call that cannot be answered: an unknown tool, invalid arguments, a path outside
    the workspace, a line past the end of a file. The message names the problem and, where
    there is one, the way to a valid call; hosts return it to the model as the tool's result."""
