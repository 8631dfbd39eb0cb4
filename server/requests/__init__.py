"""Handlers of LSP requests, one module per request family."""
