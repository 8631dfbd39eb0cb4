"""Scripts that run inside the sandbox, under the project's interpreter (standard library only)."""
