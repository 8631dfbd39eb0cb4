-- Driven by tests/e2e/test_neovim.py: open a file with the repo's editors/neovim config, wait for
-- Megawatt's diagnostics, ask for code actions on a finding, pick one (the first quick fix, or the
-- first whose title matches MEGAWATT_TEST_ACTION), resolve it if needed, then do what Neovim does
-- with a chosen action: apply its edit, run its command. The server's questions
-- (window/showMessageRequest) are answered with MEGAWATT_TEST_ANSWER, recording what the buffer
-- held when asked. Reports as JSON, with the progress and the documents Neovim was shown.
local out_path = os.getenv("MEGAWATT_TEST_OUT")
local want_code = os.getenv("MEGAWATT_TEST_CODE")
local want_action = os.getenv("MEGAWATT_TEST_ACTION")
local answer = os.getenv("MEGAWATT_TEST_ANSWER")
local result = {
  diagnostics = {}, actions = {}, progress = {}, applied = false,
  shown = {}, questions = {}, edits_applied = 0,
}
local source_buf = nil

local function finish()
  local f = assert(io.open(out_path, "w"))
  f:write(vim.json.encode(result))
  f:close()
  vim.cmd("qa!")
end

vim.opt.runtimepath:append(os.getenv("MEGAWATT_NVIM_CONFIG"))
vim.lsp.config("megawatt", { cmd = { os.getenv("MEGAWATT_PYTHON"), "-m", "megawatt", "serve" } })
vim.lsp.enable("megawatt")

local show_document = vim.lsp.handlers["window/showDocument"]
vim.lsp.handlers["window/showDocument"] = function(err, params, ctx, config)
  local path = vim.uri_to_fname(params.uri)
  local f = io.open(path, "r")
  table.insert(result.shown, { uri = params.uri, text = f and f:read("*a") or nil })
  if f then f:close() end
  return show_document(err, params, ctx, config) -- Neovim opens it, as for a user
end

vim.lsp.handlers["window/showMessageRequest"] = function(_, params)
  local titles = {}
  for _, a in ipairs(params.actions or {}) do table.insert(titles, a.title) end
  table.insert(result.questions, {
    message = params.message,
    actions = titles,
    lines = vim.api.nvim_buf_get_lines(source_buf, 0, -1, false),
    edits_applied = result.edits_applied,
  })
  if answer then return { title = answer } end
  return vim.NIL
end

local apply_edit = vim.lsp.handlers["workspace/applyEdit"]
vim.lsp.handlers["workspace/applyEdit"] = function(err, params, ctx, config)
  result.edits_applied = result.edits_applied + 1
  return apply_edit(err, params, ctx, config)
end

vim.api.nvim_create_autocmd("LspProgress", {
  callback = function(ev)
    local value = ev.data.params.value
    table.insert(result.progress, { kind = value.kind, title = value.title, message = value.message })
  end,
})

vim.api.nvim_create_autocmd("VimEnter", {
  callback = function()
    vim.schedule(function()
      local ok = vim.wait(30000, function()
        for _, d in ipairs(vim.diagnostic.get(0)) do
          if d.code == want_code then return true end
        end
        return false
      end, 50)
      for _, d in ipairs(vim.diagnostic.get(0)) do
        table.insert(result.diagnostics, { code = d.code, lnum = d.lnum, col = d.col, message = d.message })
      end
      if not ok then result.error = "no " .. want_code .. " diagnostic" return finish() end
      local client = vim.lsp.get_clients({ name = "megawatt" })[1]
      source_buf = vim.api.nvim_get_current_buf()
      result.offset_encoding = client.offset_encoding
      result.workspace_edit_capabilities = client.capabilities.workspace.workspaceEdit
      local target
      for _, d in ipairs(vim.diagnostic.get(0)) do
        if d.code == want_code then target = d break end
      end
      local lsp_diag = target.user_data.lsp
      local params = {
        textDocument = { uri = vim.uri_from_bufnr(0) },
        range = lsp_diag.range,
        context = { diagnostics = { lsp_diag } },
      }
      local resp = client:request_sync("textDocument/codeAction", params, 10000, 0)
      if not resp or resp.err then result.error = vim.inspect(resp) return finish() end
      local chosen
      for _, action in ipairs(resp.result or {}) do
        table.insert(result.actions, action.title)
        local wanted
        if want_action then
          wanted = action.title:match(want_action)
        else
          wanted = action.kind == "quickfix" and not action.title:match("^Ignore")
        end
        if not chosen and wanted then chosen = action end
      end
      if not chosen then result.error = "no fix action" return finish() end
      if not chosen.edit then
        local resolved = client:request_sync("codeAction/resolve", chosen, 120000, 0)
        chosen = resolved and resolved.result or chosen
      end
      result.resolved = { has_edit = chosen.edit ~= nil, command = chosen.command }
      result.lines_after_resolve = vim.api.nvim_buf_get_lines(source_buf, 0, -1, false)
      if chosen.edit then
        vim.lsp.util.apply_workspace_edit(chosen.edit, client.offset_encoding)
        result.applied = true
      end
      if chosen.command then
        local done = false
        client:exec_cmd(chosen.command, { bufnr = source_buf }, function(err, res)
          result.command_result = err and vim.inspect(err) or res
          done = true
        end)
        if not vim.wait(120000, function() return done end, 50) then
          result.error = "the command did not answer"
        end
        result.applied = result.applied or result.edits_applied > 0
      end
      result.lines = vim.api.nvim_buf_get_lines(source_buf, 0, -1, false)
      finish()
    end)
  end,
})
