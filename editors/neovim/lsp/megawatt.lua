-- Megawatt for Neovim 0.11+: put this folder on 'runtimepath' (or copy lsp/megawatt.lua into
-- your config's lsp/ folder), then call vim.lsp.enable("megawatt").
--
-- init_options use the same shape as the VS Code extension: { globalSettings = {...},
-- settings = { { workspace = <folder uri>, ... } } }; `settings.megawatt` answers the server's
-- workspace/configuration requests. Keys: profiles, pathMap, hotThreshold, select, ignore,
-- profileCommand.
return {
  cmd = { "megawatt", "serve" },
  filetypes = { "python" },
  root_markers = { "pyproject.toml", "setup.py", "setup.cfg", ".git" },
  init_options = { globalSettings = {}, settings = {} },
  settings = { megawatt = {} },
}
