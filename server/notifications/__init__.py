"""Handlers of LSP notifications: they update the session on the event loop."""
