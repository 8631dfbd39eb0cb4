; builtins and (from-imported) math / os.path functions that are pure: check() resolves the
; name, confirms the call is in a loop and that nothing it reads changes there
(call
  function: (identifier) @fname
  (#any-of? @fname
    "len" "abs" "min" "max" "sorted" "tuple" "frozenset" "str" "int" "float" "repr" "round"
    "divmod" "pow" "ord" "chr" "sum" "any" "all"
    "acos" "acosh" "asin" "asinh" "atan" "atan2" "atanh" "cbrt" "ceil" "comb" "copysign" "cos"
    "cosh" "degrees" "dist" "erf" "erfc" "exp" "exp2" "expm1" "fabs" "factorial" "floor" "fmod"
    "frexp" "fsum" "gamma" "gcd" "hypot" "isqrt" "lcm" "ldexp" "lgamma" "log" "log10" "log1p"
    "log2" "modf" "nextafter" "perm" "prod" "radians" "remainder" "sin" "sinh" "sqrt" "tan" "tanh"
    "trunc" "ulp"
    "join" "dirname" "basename" "split" "splitext" "splitdrive" "normpath" "normcase" "abspath"
    "relpath" "commonpath" "commonprefix" "expanduser")) @call
(call
  function: (attribute
    attribute: (identifier) @fname)
  (#any-of? @fname
    "acos" "acosh" "asin" "asinh" "atan" "atan2" "atanh" "cbrt" "ceil" "comb" "copysign" "cos"
    "cosh" "degrees" "dist" "erf" "erfc" "exp" "exp2" "expm1" "fabs" "factorial" "floor" "fmod"
    "frexp" "fsum" "gamma" "gcd" "hypot" "isqrt" "lcm" "ldexp" "lgamma" "log" "log10" "log1p"
    "log2" "modf" "nextafter" "perm" "pow" "prod" "radians" "remainder" "sin" "sinh" "sqrt" "tan"
    "tanh" "trunc" "ulp"
    "join" "dirname" "basename" "split" "splitext" "splitdrive" "normpath" "normcase" "abspath"
    "relpath" "commonpath" "commonprefix" "expanduser")) @call
; methods of a string literal: "{}/{}".format(a, b), ", ".join(names)
(call
  function: (attribute
    object: (string))) @call
; attribute chains of three dots or more: self.config.limits.max_rows
(attribute
  object: (attribute
    object: (attribute))) @chain
