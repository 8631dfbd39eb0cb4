; s += <expr> / self.buf += <expr>; the right side is not a number literal (check decides the types)
(augmented_assignment
  left: [(identifier) (attribute)] @target
  operator: "+="
  right: [
    (string)
    (concatenated_string)
    (binary_operator)
    (call)
    (identifier)
    (attribute)
    (subscript)
    (parenthesized_expression)
    (conditional_expression)
    (tuple)
  ] @rhs) @aug

; sum(xs, []) / sum(xs, ()): every step of the sum copies everything added so far
(call
  function: (identifier) @sum_func
  arguments: (argument_list . (_) @items . [(list) (tuple)] @start .)
  (#eq? @sum_func "sum")) @sum_call

(call
  function: (identifier) @sum_func
  arguments: (argument_list
    . (_) @items
    . (keyword_argument name: (identifier) @kw value: [(list) (tuple)] @start) .)
  (#eq? @sum_func "sum")
  (#eq? @kw "start")) @sum_call
