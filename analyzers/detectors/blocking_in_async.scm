; every `async def`; the calls inside are matched by blocking_in_async_calls.scm, run on the
; function's subtree only (a query cannot match "a call anywhere below an async def")
(function_definition "async" body: (block)) @async_fn
