"""Fixes: from findings to validated edits (deterministic rewrites now, LLM fixes later)."""
