; an import statement in a block: inside a function it runs again on every call
(block (import_statement) @import)
(block (import_from_statement) @import)
