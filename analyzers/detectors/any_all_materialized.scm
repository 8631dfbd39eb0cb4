; any([... for ...]) / all([... for ...]): the list is built in full before any() looks at it
(call
  function: (identifier) @func
  arguments: (argument_list . (list_comprehension) @comp .)
  (#any-of? @func "any" "all")) @call
