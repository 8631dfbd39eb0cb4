; every logger.debug/info/log(...) statement; check() resolves the logger and keeps the calls
; that run once per loop iteration. (Only statements: a logger call buried in an expression,
; or made through `from logging import debug`, is rare, and matching every call for it would
; cost more query time than it finds.)
(expression_statement
  (call
    function: (attribute attribute: (identifier) @method)
    arguments: (argument_list)
    (#any-of? @method "debug" "info" "log")) @call)
