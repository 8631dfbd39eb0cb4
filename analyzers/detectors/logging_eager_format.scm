; logger.debug(<message>, ...) where the message may be built before the call: an f-string,
; a concatenation, "..." % x, "...".format(x); check() decides and resolves the logger.
; (Not matched, because patterns that general cost more query time than they find: calls
; through `from logging import debug`, and messages wrapped in extra parentheses.)
(call
  function: (attribute attribute: (identifier) @method)
  arguments: (argument_list
    .
    [(string (interpolation))
     (concatenated_string)
     (binary_operator)
     (call function: (attribute object: [(string) (concatenated_string)]))])
  (#any-of? @method "debug" "info" "warning" "warn" "error" "exception" "critical" "fatal")) @call

; logger.log(LEVEL, <message>, ...): the level is a name, an attribute or a number
(call
  function: (attribute attribute: (identifier) @method)
  arguments: (argument_list
    .
    [(identifier) (attribute) (integer)]
    .
    [(string (interpolation))
     (concatenated_string)
     (binary_operator)
     (call function: (attribute object: [(string) (concatenated_string)]))])
  (#eq? @method "log")) @call
