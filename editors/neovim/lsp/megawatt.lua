-- Megawatt for Neovim 0.11+: put this folder on 'runtimepath' (that also brings
-- plugin/megawatt.lua: the :Megawatt command and progress messages), or copy lsp/megawatt.lua into
-- your config's lsp/ folder; then call vim.lsp.enable("megawatt").
--
-- init_options use the same shape as the VS Code extension: { globalSettings = {...},
-- settings = { { workspace = <folder uri>, ... } } }; `settings.megawatt` answers the server's
-- workspace/configuration requests. Keys: profiles, pathMap, hotThreshold, select, ignore,
-- profileCommand.

-- The server shows its workspace report, skills and AI fix previews with window/showDocument.
-- Neovim's own handler puts such a document in the current window, hiding the file being
-- edited, and `:q` on it then quits Neovim. Open it in a split of its own instead (as :help
-- does), unless it is the current file or already on screen; the rest (focus, selection,
-- jumplist) stays Neovim's.
local function show_document_beside(err, params, ctx, config)
  if params and not params.external then
    local bufnr = vim.uri_to_bufnr(params.uri)
    if vim.api.nvim_buf_is_loaded(bufnr) then
      -- every scan rewrites the same report file: a buffer kept from the last one would be stale
      vim.cmd.checktime(bufnr)
    end
    if bufnr ~= vim.api.nvim_get_current_buf() and #vim.fn.win_findbuf(bufnr) == 0 then
      vim.api.nvim_open_win(bufnr, false, { vertical = false })
    end
  end
  -- looked up now, not at load time, so that a user's own global handler still has its say
  return vim.lsp.handlers["window/showDocument"](err, params, ctx, config)
end

return {
  cmd = { "megawatt", "serve" },
  filetypes = { "python" },
  root_markers = { "pyproject.toml", "setup.py", "setup.cfg", ".git" },
  init_options = { globalSettings = {}, settings = {} },
  settings = { megawatt = {} },
  handlers = { ["window/showDocument"] = show_document_beside },
}
