-- Megawatt's Neovim commands and progress, loaded when editors/neovim is on 'runtimepath':
--
--   :Megawatt scan            scan the workspace into a ranked report (opens in a split)
--   :Megawatt record          record a profile with `profileCommand`, then reload
--   :Megawatt reload          reload the profiles
--   :Megawatt skill {id}      show a skill's SKILL.md
--   :Megawatt last-request    show the last request sent to a model (AI fixes)
--
-- When a command ends, `User MegawattDone` fires with data { command, result, err }.
-- Code lenses are asked for again on entering a buffer, leaving insert mode and whenever Megawatt
-- publishes new diagnostics (Neovim cannot be told to refresh lenses; the server answers a lens
-- request from the newest analysis, waiting for one in flight).
-- The server's work-done progress ($/progress) is echoed, the first and last message of each job
-- kept in :messages; set vim.g.megawatt_progress = false when another plugin shows LSP progress.
if vim.g.loaded_megawatt then
  return
end
vim.g.loaded_megawatt = true

local NAME = "megawatt"

--- @class MegawattSubcommand
--- @field command string the server's command
--- @field title string
--- @field folder? boolean the current file's workspace folder goes along as the argument
--- @field arg? string the name of the one argument the user gives
--- @field done? fun(result: any)

--- @type table<string, MegawattSubcommand>
local subcommands = {
  scan = { command = "megawatt.scanWorkspace", title = "Scan workspace", folder = true },
  record = { command = "megawatt.recordProfile", title = "Record profile", folder = true },
  reload = {
    command = "megawatt.reloadProfiles",
    title = "Reload profiles",
    -- the server only logs this one, and a command that says nothing looks like it did nothing
    done = function(loaded)
      local folders = loaded == 1 and "1 folder" or ("%d folders"):format(loaded or 0)
      local text = ("Megawatt: profiles reloaded, %s with a profile"):format(folders)
      vim.api.nvim_echo({ { text } }, true, {})
    end,
  },
  skill = { command = "megawatt.showSkill", title = "Show skill", arg = "skill id" },
  ["last-request"] = { command = "megawatt.showLastRequest", title = "Show last model request" },
}

--- The megawatt client of the current buffer, else any (e.g. from the report's own buffer).
--- @return vim.lsp.Client?, boolean attached
local function client_for(bufnr)
  local attached = vim.lsp.get_clients({ bufnr = bufnr, name = NAME })[1]
  if attached then
    return attached, true
  end
  return vim.lsp.get_clients({ name = NAME })[1], false
end

local function run(opts)
  local name, arg = opts.fargs[1], opts.fargs[2]
  local sub = subcommands[name or ""]
  if not sub then
    local names = vim.tbl_keys(subcommands)
    table.sort(names)
    vim.notify("Megawatt: usage: :Megawatt " .. table.concat(names, "|"), vim.log.levels.ERROR)
    return
  end
  if sub.arg and not arg then
    vim.notify(("Megawatt: :Megawatt %s needs a %s"):format(name, sub.arg), vim.log.levels.ERROR)
    return
  end
  local bufnr = vim.api.nvim_get_current_buf()
  local client, attached = client_for(bufnr)
  if not client then
    vim.notify("Megawatt: the megawatt language server is not running", vim.log.levels.ERROR)
    return
  end
  local arguments = nil
  if sub.arg then
    arguments = { arg }
  elseif sub.folder and attached then
    -- the server picks the workspace folder of this file; unattached, it takes the first folder
    arguments = { vim.uri_from_bufnr(bufnr) }
  end
  local command = { title = sub.title, command = sub.command, arguments = arguments }
  -- exec_cmd, not vim.lsp.buf.execute_command, which Neovim 0.12 deprecates
  client:exec_cmd(command, { bufnr = bufnr }, function(err, result)
    if err then
      local why = err.message or vim.inspect(err)
      vim.notify(("Megawatt: %s failed: %s"):format(name, why), vim.log.levels.ERROR)
    elseif sub.done then
      sub.done(result)
    end
    vim.api.nvim_exec_autocmds("User", {
      pattern = "MegawattDone",
      modeline = false,
      data = { command = sub.command, result = result, err = err },
    })
  end)
end

vim.api.nvim_create_user_command("Megawatt", run, {
  nargs = "+",
  desc = "Megawatt: scan, record, reload, skill {id}, last-request",
  complete = function(arglead, cmdline)
    if #vim.split(cmdline, "%s+", { trimempty = false }) > 2 then
      return {}
    end
    local names = vim.tbl_keys(subcommands)
    table.sort(names)
    return vim.tbl_filter(function(n)
      return vim.startswith(n, arglead)
    end, names)
  end,
})

-- Progress: Neovim keeps $/progress in client.progress for statusline plugins but shows none
-- by itself, so a recording of a minute would look like nothing happening.
--- @type table<string, { id: integer|string?, percent: boolean? }> per token: the 0.12 message id,
--- and whether the job gives percentages (a recording's length is unknown: it gives none)
local jobs = {}

-- Neovim 0.12's progress messages update one line in place; 0.11 has no `kind` and refuses it
local progress_messages = vim.fn.has("nvim-0.12") == 1

local function echo_progress(token, value)
  -- begin and end go into :messages; the reports between them only pass by, a scan sends many
  local history = value.kind ~= "report"
  local job = jobs[token] or {}
  jobs[token] = value.kind ~= "end" and job or nil
  job.percent = job.percent or value.percentage ~= nil
  if progress_messages then
    -- without a message (a job's beginning) the title alone, not "title: " and nothing
    local message = value.message ~= "" and value.message or nil
    local ok, id = pcall(vim.api.nvim_echo, { { message or value.title or "" } }, history, {
      kind = "progress",
      id = job.id,
      title = message and value.title or nil,
      status = value.kind == "end" and "success" or "running",
      percent = (value.kind == "end" and job.percent) and 100 or value.percentage,
    })
    if ok then
      job.id = id
      return
    end
    progress_messages = false -- a 0.12 development build from before progress messages
  end
  local text = value.title or "Megawatt"
  if value.message and value.message ~= "" then
    text = text .. ": " .. value.message
  end
  if value.percentage and value.kind == "report" then
    text = ("%s (%d%%)"):format(text, value.percentage)
  end
  if not history then
    -- a line wider than the command line would stop the user at a hit-enter prompt
    text = text:sub(1, math.max(vim.v.echospace, 1))
  end
  vim.api.nvim_echo({ { text } }, history, {})
end

vim.api.nvim_create_autocmd("LspProgress", {
  group = vim.api.nvim_create_augroup("megawatt.progress", { clear = true }),
  callback = function(ev)
    if vim.g.megawatt_progress == false then
      return
    end
    local client = vim.lsp.get_client_by_id(ev.data.client_id)
    local params = ev.data.params
    if not client or client.name ~= NAME or type(params.value) ~= "table" then
      return
    end
    echo_progress(tostring(params.token), params.value)
  end,
})

-- Lenses: Neovim has no workspace/codeLens/refresh, so it is asked when what they show may have
-- changed: a new publication of Megawatt's diagnostics (an edit, a fix, a reloaded profile)
vim.api.nvim_create_autocmd("LspAttach", {
  group = vim.api.nvim_create_augroup("megawatt.lenses", { clear = true }),
  callback = function(ev)
    local client = vim.lsp.get_client_by_id(ev.data.client_id)
    if not client or client.name ~= NAME or vim.g.megawatt_codelens == false then
      return
    end
    local buf = ev.buf
    local group = vim.api.nvim_create_augroup("megawatt.lenses." .. buf, { clear = true })
    local function refresh()
      if vim.api.nvim_buf_is_valid(buf) then
        vim.lsp.codelens.refresh({ bufnr = buf })
      end
    end
    vim.api.nvim_create_autocmd({ "BufEnter", "InsertLeave" }, {
      group = group,
      buffer = buf,
      callback = refresh,
    })
    vim.api.nvim_create_autocmd("DiagnosticChanged", {
      group = group,
      buffer = buf,
      callback = function()
        -- coalesced: one request for a burst of publications
        vim.schedule(refresh)
      end,
    })
    refresh()
  end,
})
