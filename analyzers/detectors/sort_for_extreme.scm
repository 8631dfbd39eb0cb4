; sorted(x)[0], sorted(x, key=k)[-1], list(x)[0]: a whole sort (or copy) to read one element
(subscript
  value: (call
    function: (identifier) @func
    arguments: (_) @args) @call
  subscript: (integer) @index
  (#any-of? @func "sorted" "list")
  (#eq? @index "0")) @subscript
(subscript
  value: (call
    function: (identifier) @func
    arguments: (_) @args) @call
  subscript: (unary_operator) @index
  (#eq? @func "sorted")
  (#match? @index "^-[ \t]*1$")) @subscript
