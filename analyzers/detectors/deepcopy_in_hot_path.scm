; copy.deepcopy(x) / deepcopy(x): check() resolves the name and skips __deepcopy__ implementations
(call
  function: (attribute
    attribute: (identifier) @name) @func
  (#eq? @name "deepcopy")) @call
(call
  function: (identifier) @func
  (#eq? @func "deepcopy")) @call
