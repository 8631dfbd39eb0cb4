-- Driven by tests/e2e/test_neovim.py: with the repo's editors/neovim config, wait for the memoize
-- diagnostic, pick "Generate fix with Claude", resolve it (recording the progress Neovim shows),
-- apply the edit, report as JSON.
local out_path = os.getenv("MEGAWATT_TEST_OUT")
local result = { actions = {}, progress = {}, applied = false }

local function finish()
  local f = assert(io.open(out_path, "w"))
  f:write(vim.json.encode(result))
  f:close()
  vim.cmd("qa!")
end

vim.opt.runtimepath:append(os.getenv("MEGAWATT_NVIM_CONFIG"))
vim.lsp.config("megawatt", { cmd = { os.getenv("MEGAWATT_PYTHON"), "-m", "megawatt", "serve" } })
vim.lsp.enable("megawatt")

vim.api.nvim_create_autocmd("LspProgress", {
  callback = function(ev)
    local value = ev.data.params.value
    table.insert(result.progress, { kind = value.kind, title = value.title, message = value.message })
  end,
})

vim.api.nvim_create_autocmd("VimEnter", {
  callback = function()
    vim.schedule(function()
      local target
      vim.wait(30000, function()
        for _, d in ipairs(vim.diagnostic.get(0)) do
          if d.code == "memoize" then target = d return true end
        end
        return false
      end, 50)
      if not target then result.error = "no memoize diagnostic" return finish() end
      local client = vim.lsp.get_clients({ name = "megawatt" })[1]
      local lsp_diag = target.user_data.lsp
      local resp = client:request_sync("textDocument/codeAction", {
        textDocument = { uri = vim.uri_from_bufnr(0) },
        range = lsp_diag.range,
        context = { diagnostics = { lsp_diag } },
      }, 10000, 0)
      if not resp or resp.err then result.error = vim.inspect(resp) return finish() end
      local chosen
      for _, action in ipairs(resp.result or {}) do
        table.insert(result.actions, action.title)
        if not chosen and action.title:match("^Generate fix with Claude") then chosen = action end
      end
      if not chosen then result.error = "no AI action" return finish() end
      local resolved = client:request_sync("codeAction/resolve", chosen, 120000, 0)
      if not resolved or resolved.err then result.error = vim.inspect(resolved) return finish() end
      if resolved.result.edit then
        vim.lsp.util.apply_workspace_edit(resolved.result.edit, client.offset_encoding)
        result.applied = true
      end
      result.lines = vim.api.nvim_buf_get_lines(0, 0, -1, false)
      finish()
    end)
  end,
})
