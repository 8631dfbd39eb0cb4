; xs.pop(0): removes the first element by shifting every other one down
(call
  function: (attribute
    object: [(identifier) (attribute)] @recv
    attribute: (identifier) @method)
  arguments: (argument_list . (integer) @index .)
  (#eq? @method "pop")
  (#eq? @index "0")) @call

; xs.insert(0, x): makes room at the front by shifting every element up
(call
  function: (attribute
    object: [(identifier) (attribute)] @recv
    attribute: (identifier) @method)
  arguments: (argument_list . (integer) @index . (_) .)
  (#eq? @method "insert")
  (#eq? @index "0")) @call
