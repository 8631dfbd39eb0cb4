-- Driven by tests/e2e/test_neovim_lenses.py: open a file with the repo's editors/neovim config and
-- ask for code lenses the way a Neovim user's autocmd does (vim.lsp.codelens.refresh as soon as the
-- server attaches, and again after an edit); Neovim has no codeLens/refresh, so the first answer
-- is all it shows. Then, with MEGAWATT_TEST_EDIT_FROM/TO, replace the lines of a function's body
-- and ask again; with MEGAWATT_TEST_SWAP_FROM/TO, move a new recording over the configured one and
-- wait for the inlay hints of the new profile. Reports as JSON.
local out_path = os.getenv("MEGAWATT_TEST_OUT")
local edit_from = tonumber(os.getenv("MEGAWATT_TEST_EDIT_FROM") or "")
local edit_to = tonumber(os.getenv("MEGAWATT_TEST_EDIT_TO") or "")
local swap_from = os.getenv("MEGAWATT_TEST_SWAP_FROM")
local swap_to = os.getenv("MEGAWATT_TEST_SWAP_TO")
local result = { diagnostics = {}, lenses = {}, errors = {} }

local function finish()
  local f = assert(io.open(out_path, "w"))
  f:write(vim.json.encode(result))
  f:close()
  vim.cmd("qa!")
end

vim.opt.runtimepath:append(os.getenv("MEGAWATT_NVIM_CONFIG"))
vim.lsp.config("megawatt", { cmd = { os.getenv("MEGAWATT_PYTHON"), "-m", "megawatt", "serve" } })
vim.lsp.enable("megawatt")

local show_message = vim.lsp.handlers["window/showMessage"]
vim.lsp.handlers["window/showMessage"] = function(err, params, ctx, config)
  if params.type == vim.lsp.protocol.MessageType.Error then
    table.insert(result.errors, params.message)
  end
  return show_message(err, params, ctx, config)
end

local function lenses(buf)
  local out = {}
  for _, lens in ipairs(vim.lsp.codelens.get(buf)) do
    table.insert(out, { lnum = lens.range.start.line, title = lens.command and lens.command.title })
  end
  table.sort(out, function(a, b) return a.lnum < b.lnum end)
  return out
end

local function hints(buf)
  local out = {}
  for _, h in ipairs(vim.lsp.inlay_hint.get({ bufnr = buf })) do
    table.insert(out, { lnum = h.inlay_hint.position.line, label = h.inlay_hint.label })
  end
  return out
end

local function diagnostics(buf)
  local out = {}
  for _, d in ipairs(vim.diagnostic.get(buf)) do
    table.insert(out, { code = d.code, lnum = d.lnum, message = d.message, severity = d.severity })
  end
  return out
end

local attached = false
vim.api.nvim_create_autocmd("LspAttach", {
  callback = function(ev)
    local client = vim.lsp.get_client_by_id(ev.data.client_id)
    if not client or client.name ~= "megawatt" then return end
    result.root_dir = client.root_dir or vim.NIL
    attached = true
    -- what users put in their LspAttach: lenses asked for at once, analysis or not
    -- the plugin asks for lenses too; asking here as well is what many configs do
    vim.lsp.inlay_hint.enable(true, { bufnr = ev.buf })
  end,
})

vim.api.nvim_create_autocmd("VimEnter", {
  callback = function()
    vim.schedule(function()
      local buf = vim.api.nvim_get_current_buf()
      if not vim.wait(30000, function() return attached end, 50) then
        result.error = "megawatt never attached"
        return finish()
      end
      -- the one answer Neovim got: no re-asking happens here
      vim.wait(20000, function() return #vim.lsp.codelens.get(buf) > 0 end, 50)
      vim.wait(20000, function()
        for _, d in ipairs(vim.diagnostic.get(buf)) do
          if d.code == "hot-function" then return true end
        end
        return false
      end, 50)
      result.lenses = lenses(buf)
      result.diagnostics = diagnostics(buf)
      if edit_from then
        local before = vim.inspect(lenses(buf))
        vim.api.nvim_buf_set_lines(buf, edit_from, edit_to, false, { "    return []" })
        vim.lsp.codelens.refresh({ bufnr = buf }) -- as an InsertLeave autocmd would
        vim.wait(20000, function()
          local now = lenses(buf)
          return #now > 0 and vim.inspect(now) ~= before
        end, 50)
        -- the diagnostics of the edited text, for the test to compare the lenses with
        vim.wait(20000, function()
          for _, d in ipairs(vim.diagnostic.get(buf)) do
            if d.lnum == edit_from and d.code ~= "hot-function" then
              return false
            end
          end
          return true
        end, 50)
        result.edited = { lenses = lenses(buf), diagnostics = diagnostics(buf) }
      end
      if swap_from then
        vim.wait(20000, function() return #hints(buf) > 0 end, 50)
        local before = vim.inspect(hints(buf))
        result.hints_before = hints(buf)
        assert(os.rename(swap_from, swap_to))
        -- Neovim does not watch files on Linux: the server polls the profile every 2 s
        vim.wait(30000, function()
          local now = hints(buf)
          return (#now > 0 and vim.inspect(now) ~= before) or #result.errors > 0
        end, 100)
        result.hints_after = hints(buf)
        result.diagnostics_after = diagnostics(buf)
      end
      finish()
    end)
  end,
})
