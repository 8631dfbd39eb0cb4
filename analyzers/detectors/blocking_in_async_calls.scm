; calls that may block, by the name they are called by; check resolves what they really are
(call
  function: (attribute attribute: (identifier) @name) @func
  (#any-of? @name
    "sleep" "get" "post" "put" "delete" "patch" "head" "options" "request"
    "urlopen" "urlretrieve" "run" "call" "check_call" "check_output" "getoutput"
    "getstatusoutput" "system" "wait" "waitpid" "communicate" "read_text" "write_text"
    "read_bytes" "write_bytes" "recv" "recv_into" "recvfrom" "send" "sendall" "sendto"
    "connect" "accept" "create_connection" "getaddrinfo" "gethostbyname" "gethostbyname_ex"
    "gethostbyaddr" "open" "input")) @call

; a plain name may be an alias (`from requests import post as send`): all are resolved
(call function: (identifier) @func) @call
