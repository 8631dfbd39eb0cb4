"""Analyzers: tree-sitter parsing of Python source, shared by every detector."""
