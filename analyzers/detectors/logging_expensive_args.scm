; logger.debug/info/log(...) with at least two arguments; check() resolves the logger, the
; level, and which arguments after the message do work (calls, comprehensions, f-strings)
(call
  function: (attribute attribute: (identifier) @method)
  arguments: (argument_list . (_) . (_))
  (#any-of? @method "debug" "info" "log")) @call
