; re.compile("...") / re.match("...", s) and friends: a literal pattern looked up again per call
(call
  function: (attribute
    attribute: (identifier) @method) @func
  arguments: (argument_list . [(string) (concatenated_string)] @pattern)
  (#any-of? @method "compile" "match" "search" "fullmatch" "findall" "finditer" "sub" "subn" "split")) @call
; `from re import compile as c`: any plain call with a literal first argument; check() resolves it
(call
  function: (identifier) @func
  arguments: (argument_list . [(string) (concatenated_string)] @pattern)) @call
