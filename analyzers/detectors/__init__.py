"""One module per opportunity class, each with its query patterns in a `.scm` beside it."""
