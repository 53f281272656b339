"""End to end in a real editor: headless Neovim's built-in LSP client starts ``cfnfix server``, opens
a broken template, runs the fix-all code action, writes the buffer; the file on disk is what
``cfnfix --write`` (safe fixes only, the server's default for fix-all) writes.

Written for Neovim 0.7.2, what Debian 12 ships (and CI installs): ``vim.lsp.start_client`` and
``buf_attach_client`` (``vim.lsp.start`` and ``vim.lsp.config`` came later), ``code_action`` with
a context, which picks through ``vim.ui.select`` (replaced here by "the first one") and resolves
the action's edit with ``codeAction/resolve``. The client syncs the buffer incrementally, so the
last step (the diagnostics of the fixed buffer) also checks incremental changes end to end.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest
from click.testing import CliRunner

from cfnfix.cli import main

NVIM = shutil.which("nvim")
pytestmark = pytest.mark.skipif(NVIM is None, reason="Neovim (nvim) is not installed: apt-get install neovim (CI installs it)")
pytest.importorskip("pygls", reason="the server needs pygls: pip install 'cfnfix[server]'")

from test_server import STACK  # noqa: E402  (a safe fix, an unsafe fix, another safe fix)

TIMEOUT_MS = 120_000  # for each wait: generous, never a measurement

SCRIPT = r"""
local file = os.getenv('CFNFIX_TEST_FILE')
local report = os.getenv('CFNFIX_TEST_REPORT')
local timeout = tonumber(os.getenv('CFNFIX_TEST_TIMEOUT'))
local function say(line)
  local f = io.open(report, 'a'); f:write(line .. '\n'); f:close()
end
local function codes(bufnr)
  local out = {}
  for _, d in ipairs(vim.diagnostic.get(bufnr)) do table.insert(out, tostring(d.code)) end
  table.sort(out)
  return table.concat(out, ',')
end
local function fail(message)
  say('FAIL ' .. message)
  vim.cmd('cquit 3')
end

-- code_action asks the user to pick; there is one action, take it
vim.ui.select = function(items, _opts, on_choice)
  say('choices ' .. #items)
  on_choice(items[1], 1)
end

vim.cmd('edit ' .. vim.fn.fnameescape(file))
local bufnr = vim.api.nvim_get_current_buf()
local client_id = vim.lsp.start_client({
  name = 'cfnfix',
  cmd = { os.getenv('CFNFIX_TEST_PYTHON'), '-m', 'cfnfix', 'server' },
  root_dir = vim.fn.fnamemodify(file, ':h'),
  on_exit = function(code) if code ~= 0 then say('server exited ' .. code) end end,
})
if not client_id then fail('the client did not start') end
vim.lsp.buf_attach_client(bufnr, client_id)

if not vim.wait(timeout, function() return #vim.diagnostic.get(bufnr) == 3 end, 50) then
  fail('diagnostics: ' .. codes(bufnr))
end
say('before ' .. codes(bufnr))

vim.lsp.buf.code_action({ only = { 'source.fixAll.cfnfix' } })
if not vim.wait(timeout, function() return vim.bo[bufnr].modified end, 50) then
  fail('the fix-all action changed nothing')
end
vim.cmd('write')

-- the fixed buffer is analysed again: only the unsafe fix, which fix-all leaves, is left
if not vim.wait(timeout, function() return codes(bufnr) == 'CT001' end, 50) then
  fail('diagnostics after: ' .. codes(bufnr))
end
say('after ' .. codes(bufnr))
vim.lsp.stop_client(client_id)
vim.wait(timeout, function() return vim.lsp.get_client_by_id(client_id) == nil end, 50)
vim.cmd('qa!')
"""


def test_neovim_fix_all_writes_what_the_command_line_writes(tmp_path):
    template = tmp_path / "stack.yaml"
    template.write_text(STACK)
    expected_copy = tmp_path / "expected" / "stack.yaml"
    expected_copy.parent.mkdir()
    expected_copy.write_text(STACK)
    r = CliRunner().invoke(main, ["--write", "--safe-only", str(expected_copy)])
    assert r.exit_code == 1, r.output  # 1: the unsafe fix is left
    expected = expected_copy.read_text()
    assert expected != STACK

    script = tmp_path / "fix_all.lua"
    script.write_text(SCRIPT)
    report = tmp_path / "report.txt"
    home = tmp_path / "home"
    home.mkdir()
    env = {**os.environ, "HOME": str(home), "XDG_CONFIG_HOME": str(home / ".config"), "XDG_DATA_HOME": str(home / ".local/share"),
           "XDG_STATE_HOME": str(home / ".local/state"), "XDG_CACHE_HOME": str(home / ".cache"),
           "CFNFIX_TEST_FILE": str(template), "CFNFIX_TEST_REPORT": str(report), "CFNFIX_TEST_PYTHON": sys.executable,
           "CFNFIX_TEST_TIMEOUT": str(TIMEOUT_MS)}
    run = subprocess.run([NVIM, "--headless", "-u", "NONE", "-i", "NONE", "-n", "-c", f"luafile {script}"],
                         cwd=tmp_path, env=env, capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=600)
    said = report.read_text() if report.exists() else ""
    assert run.returncode == 0, f"nvim exited {run.returncode}\nreport:\n{said}\nstderr:\n{run.stderr}\nstdout:\n{run.stdout}"
    assert said.splitlines() == ["before CT001,OUT001,PROP001", "choices 1", "after CT001"]
    assert template.read_text() == expected
