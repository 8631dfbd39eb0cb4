; module-level functions and static methods (a cache can wrap them), and plain methods (which
; need a per-instance cache). `check` keeps the recursive ones (and, for functions, annotated
; pure ones with loops), then proves them pure.
(module
  (function_definition
    name: (identifier) @name) @fn)
(module
  (decorated_definition
    definition: (function_definition
      name: (identifier) @name) @fn) @decorated)
(class_definition
  name: (identifier) @class
  body: (block
    (decorated_definition
      definition: (function_definition
        name: (identifier) @name) @fn) @decorated))
(class_definition
  name: (identifier) @class
  body: (block
    (function_definition
      name: (identifier) @name) @fn))
