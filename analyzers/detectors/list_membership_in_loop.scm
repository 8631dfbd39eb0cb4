; `x in seq` / `x not in seq` where seq may be a list or tuple: check() decides, and whether it is in a loop
(comparison_operator
  ["in" "not in"]
  [(identifier) (list) (tuple) (list_comprehension) (call)] @right) @cmp
