; module-level functions and static methods: the only functions a cache can wrap without keeping
; `self` alive. `check` keeps the recursive ones (and annotated pure ones with loops), then proves
; them pure.
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
