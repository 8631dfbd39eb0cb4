-- Driven by tests/e2e/test_neovim_commands.py: open a file with the repo's editors/neovim folder
-- on 'runtimepath' (lsp/ and plugin/, as a user installs it), wait for Megawatt's
-- MEGAWATT_TEST_CODE diagnostic, record the file's diagnostics, then run MEGAWATT_TEST_STEPS
-- (JSON): a string is an Ex command, { lua = "..." } a chunk of Lua. After a `:Megawatt …` step
-- the driver waits for its `User MegawattDone`. After each step it records the windows (buffer,
-- current or not, cursor, the buffer's lines), the :messages so far and the command's result,
-- and writes them as JSON, also when a step quits Nvim.
local out_path = os.getenv("MEGAWATT_TEST_OUT")
local want_code = os.getenv("MEGAWATT_TEST_CODE")
local steps = vim.json.decode(os.getenv("MEGAWATT_TEST_STEPS") or "[]")
local settings = os.getenv("MEGAWATT_TEST_SETTINGS")
local result = { steps = {}, progress = {} }
local written = false

local function write()
  if written then return end
  written = true
  local f = assert(io.open(out_path, "w"))
  f:write(vim.json.encode(result))
  f:close()
end

local function finish()
  write()
  vim.cmd("qa!")
end

vim.api.nvim_create_autocmd("VimLeavePre", {
  callback = function()
    if not written then result.left_early = true end
    write()
  end,
})

vim.opt.runtimepath:append(os.getenv("MEGAWATT_NVIM_CONFIG"))
local config = { cmd = { os.getenv("MEGAWATT_PYTHON"), "-m", "megawatt", "serve" } }
if settings then config.settings = { megawatt = vim.json.decode(settings) } end
vim.lsp.config("megawatt", config)
vim.lsp.enable("megawatt")

vim.api.nvim_create_autocmd("LspProgress", {
  callback = function(ev)
    local value = ev.data.params.value
    table.insert(result.progress, {
      kind = value.kind, title = value.title, message = value.message,
      percentage = value.percentage,
    })
  end,
})

local last_done = nil
vim.api.nvim_create_autocmd("User", {
  pattern = "MegawattDone",
  callback = function(ev) last_done = ev.data end,
})

local function messages()
  return vim.api.nvim_exec2("messages", { output = true }).output
end

local function windows()
  local out = {}
  for _, win in ipairs(vim.api.nvim_tabpage_list_wins(0)) do
    local buf = vim.api.nvim_win_get_buf(win)
    table.insert(out, {
      name = vim.api.nvim_buf_get_name(buf),
      current = win == vim.api.nvim_get_current_win(),
      cursor = vim.api.nvim_win_get_cursor(win),
      lines = vim.api.nvim_buf_get_lines(buf, 0, -1, false),
    })
  end
  return out
end

local function run_step(step)
  local record = { step = step }
  table.insert(result.steps, record)
  last_done = nil
  local ok, err
  if type(step) == "table" then
    local chunk, load_err = load(step.lua, "step", "t")
    if chunk then ok, err = pcall(chunk) else ok, err = false, load_err end
  else
    ok, err = pcall(vim.cmd, step)
  end
  if not ok then
    record.error = tostring(err)
  elseif type(step) == "string" and step:match("^Megawatt ") then
    if vim.wait(180000, function() return last_done ~= nil end, 50) then
      record.result = last_done.result
      record.err = last_done.err and vim.inspect(last_done.err) or nil
    else
      record.error = "no MegawattDone"
    end
  end
  record.windows = windows()
  record.tabs = #vim.api.nvim_list_tabpages()
  record.messages = messages()
end

vim.api.nvim_create_autocmd("VimEnter", {
  callback = function()
    vim.schedule(function()
      local ok = vim.wait(30000, function()
        for _, d in ipairs(vim.diagnostic.get(0)) do
          if d.code == want_code then return true end
        end
        return false
      end, 50)
      if not ok then result.error = "no " .. want_code .. " diagnostic" return finish() end
      result.source = vim.api.nvim_buf_get_name(0)
      result.diagnostics = {}
      for _, d in ipairs(vim.diagnostic.get(0)) do
        table.insert(result.diagnostics, {
          code = d.code, lnum = d.lnum, message = d.message,
          severity = vim.diagnostic.severity[d.severity],
        })
      end
      vim.api.nvim_win_set_cursor(0, { 20, 4 })
      result.cursor = vim.api.nvim_win_get_cursor(0)
      for _, step in ipairs(steps) do
        local ran, err = pcall(run_step, step)
        if not ran then result.error = tostring(err) break end
      end
      finish()
    end)
  end,
})
