"""Bot mode (cfnfix --pr) for real: a bare repository as the remote, a clone with broken
templates, and pytest-httpserver standing in for the GitHub REST API (a small fake that keeps
pull requests), asserting on the git refs pushed and the API requests received."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from cfnfix.cli import main
from cfnfix.bot.github import redact

pytest.importorskip("pytest_httpserver")
from werkzeug.wrappers import Response  # noqa: E402  (a pytest-httpserver dependency)

from test_cli import BROKEN, FIXED  # noqa: E402

TOKEN = "ghs_S3cretT0kenValue0123456789"
REPO = "acme/infra"
BRANCH = "cfnfix/fixes"

API_YAML, API_FIXED = BROKEN, FIXED  # the Export-without-Name template of the CLI tests
QUEUE_JSON = """{
  "Resources": {
    "Queue": {"Type": "AWS::SQS::Queue"}
  },
  "Outputs": {
    "QueueUrl": {
      "Value": {"Ref": "Queue"},
      "Export": {}
    }
  }
}
"""


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout.strip()


class FakeGitHub:
    """Just enough of GitHub's pulls API, keeping its pull requests in a list."""

    def __init__(self, httpserver, remote: Path, prefix: str = ""):
        self.remote = remote
        self.prefix = prefix
        self.prs: list[dict] = []
        self.fail: int | None = None
        self.server = httpserver
        httpserver.expect_request(re.compile(rf"^{prefix}/repos/{REPO}/pulls")).respond_with_handler(self)

    def __call__(self, request):
        if self.fail:
            return _json({"message": "Resource not accessible by integration"}, self.fail)
        sha = subprocess.run(["git", "rev-parse", "-q", "--verify", f"refs/heads/{BRANCH}"], cwd=self.remote, capture_output=True, text=True).stdout.strip()
        path = request.path.removeprefix(self.prefix)
        if request.method == "GET" and path == f"/repos/{REPO}/pulls":
            state = request.args.get("state", "open")
            found = [p for p in reversed(self.prs) if request.args["head"] == f"acme:{p['head']['ref']}" and state in ("all", p["state"])]
            return _json(found)
        if request.method == "POST" and path == f"/repos/{REPO}/pulls":
            data = request.get_json()
            pr = {"number": len(self.prs) + 1, "state": "open", "title": data["title"], "body": data["body"], "merged_at": None,
                  "head": {"ref": data["head"], "sha": sha}, "base": {"ref": data["base"]},
                  "html_url": f"https://github.example/{REPO}/pull/{len(self.prs) + 1}"}
            self.prs.append(pr)
            return _json(pr, 201)
        m = re.fullmatch(rf"/repos/{REPO}/pulls/(\d+)", path)
        if request.method == "PATCH" and m:
            pr = self.prs[int(m.group(1)) - 1]
            data = request.get_json()
            pr.update({k: v for k, v in data.items() if k != "base"})
            if "base" in data:
                pr["base"] = {"ref": data["base"]}
            return _json(pr)
        return _json({"message": "Not Found"}, 404)

    def requests(self) -> list[tuple[str, str, dict | None]]:
        out = []
        for request, _response in self.server.log:
            body = json.loads(request.data) if request.data else None
            out.append((request.method, request.full_path.rstrip("?"), body))
        return out

    def writes(self) -> list[tuple[str, str, dict | None]]:
        return [r for r in self.requests() if r[0] != "GET"]


def _json(data, status=200):
    return Response(json.dumps(data), status=status, content_type="application/json")


@pytest.fixture
def env(tmp_path, monkeypatch):
    """An isolated git configuration and GitHub Actions' variables (the API URL is set per test)."""
    gitconfig = tmp_path / "gitconfig"
    gitconfig.write_text("")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(gitconfig))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    for var in ("GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL", "GIT_COMMITTER_NAME", "GIT_COMMITTER_EMAIL", "GIT_DIR", "GIT_WORK_TREE",
                "http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
    monkeypatch.setenv("GITHUB_REPOSITORY", REPO)
    monkeypatch.setenv("GITHUB_API_URL", "http://127.0.0.1:9")  # nothing listens: tests that need the API set it
    return monkeypatch


@pytest.fixture
def repo(tmp_path, env):
    """(clone, bare remote): main holds stacks/api.yaml with an OUT001 problem."""
    remote = tmp_path / "remote.git"
    git(tmp_path, "init", "--quiet", "--bare", "--initial-branch=main", str(remote))
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "--quiet", str(remote), str(clone))
    git(clone, "config", "user.name", "Test Dev")
    git(clone, "config", "user.email", "dev@example.com")
    git(clone, "checkout", "--quiet", "-b", "main")
    (clone / "stacks").mkdir()
    (clone / "stacks" / "api.yaml").write_text(API_YAML)
    (clone / "README.md").write_text("infra\n")
    commit_and_push(clone, "initial")
    env.chdir(clone)
    return clone, remote


@pytest.fixture
def github(httpserver, repo, env):
    env.setenv("GITHUB_API_URL", httpserver.url_for("/").rstrip("/"))
    return FakeGitHub(httpserver, repo[1])


def commit_and_push(clone: Path, message: str) -> None:
    git(clone, "add", "-A")
    git(clone, "commit", "--quiet", "-m", message)
    git(clone, "push", "--quiet", "origin", "HEAD:refs/heads/main")


def run(*args):
    return CliRunner().invoke(main, ["--pr", *map(str, args)], catch_exceptions=False)


def remote_sha(remote: Path, ref: str) -> str | None:
    p = subprocess.run(["git", "rev-parse", "-q", "--verify", ref], cwd=remote, capture_output=True, text=True)
    return p.stdout.strip() or None


def assert_checkout_untouched(clone: Path, head: str) -> None:
    assert git(clone, "status", "--porcelain") == ""
    assert git(clone, "symbolic-ref", "--short", "HEAD") == "main"
    assert git(clone, "rev-parse", "HEAD") == head
    assert len(git(clone, "worktree", "list").splitlines()) == 1
    assert git(clone, "for-each-ref", "refs/cfnfix-tmp") == ""


# ----- the life of a fix pull request ---------------------------------------------------------
def test_opens_updates_leaves_alone_and_closes_the_pull_request(repo, github):
    clone, remote = repo

    # 1. broken template on main: a fix branch from main, and a new pull request
    head = git(clone, "rev-parse", "HEAD")
    r = run()
    assert r.exit_code == 0, r.output
    main1 = remote_sha(remote, "main")
    fix1 = remote_sha(remote, BRANCH)
    assert fix1 and git(remote, "rev-parse", f"{fix1}^") == main1
    assert git(remote, "show", f"{BRANCH}:stacks/api.yaml") + "\n" == API_FIXED
    message = git(remote, "log", "-1", "--format=%B", BRANCH)
    assert message.startswith("cfnfix: fix 1 CloudFormation deploy issue in 1 template")
    assert "stacks/api.yaml:\n- OUT001 Output TopicArn: add Export Name `${AWS::StackName}-TopicArn`" in message
    assert git(remote, "log", "-1", "--format=%an <%ae>", BRANCH) == "Test Dev <dev@example.com>"
    (method, path, body), = github.writes()
    assert (method, path) == ("POST", f"/repos/{REPO}/pulls")
    assert body["head"] == BRANCH and body["base"] == "main" and body["title"] == "cfnfix: fix 1 CloudFormation deploy issue in 1 template"
    assert "### `stacks/api.yaml`" in body["body"] and "- **OUT001** (safe)" in body["body"] and "*Why:*" in body["body"]
    assert "```diff" in body["body"]
    request, _ = github.server.log[0]
    assert request.headers["Authorization"] == f"Bearer {TOKEN}"
    assert "opened pull request #1" in r.output
    assert_checkout_untouched(clone, head)

    # 2. another broken template lands on main: the branch is rebuilt on it, the PR updated
    (clone / "stacks" / "queue.json").write_text(QUEUE_JSON)
    commit_and_push(clone, "add a queue")
    head = git(clone, "rev-parse", "HEAD")
    github.server.clear_log()
    r = run()
    assert r.exit_code == 0, r.output
    fix2 = remote_sha(remote, BRANCH)
    assert fix2 != fix1 and git(remote, "rev-parse", f"{fix2}^") == remote_sha(remote, "main")
    assert '"Name": {"Fn::Sub": "${AWS::StackName}-QueueUrl"}' in git(remote, "show", f"{BRANCH}:stacks/queue.json")
    (method, path, body), = github.writes()
    assert (method, path) == ("PATCH", f"/repos/{REPO}/pulls/1")
    assert body["title"] == "cfnfix: fix 2 CloudFormation deploy issues in 2 templates"
    assert "### `stacks/queue.json`" in body["body"] and "### `stacks/api.yaml`" in body["body"]
    assert len(github.prs) == 1
    assert_checkout_untouched(clone, head)

    # 3. nothing new: no commit, no push, no API write
    github.server.clear_log()
    r = run()
    assert r.exit_code == 0, r.output
    assert remote_sha(remote, BRANCH) == fix2
    assert github.writes() == [] and github.requests(), "only reads"
    assert "already holds these fixes" in r.output and "is up to date" in r.output

    # 4. the fixes are merged into main: the stale pull request is closed, nothing deleted
    git(clone, "fetch", "--quiet", "origin", BRANCH)
    git(clone, "merge", "--quiet", "--ff-only", "FETCH_HEAD")
    git(clone, "push", "--quiet", "origin", "main")
    head = git(clone, "rev-parse", "HEAD")
    github.server.clear_log()
    r = run()
    assert r.exit_code == 0, r.output
    assert github.writes() == [("PATCH", f"/repos/{REPO}/pulls/1", {"state": "closed"})]
    assert remote_sha(remote, BRANCH) == fix2, "the branch is not deleted"
    assert remote_sha(remote, "main") == head
    assert_checkout_untouched(clone, head)

    # 5. and again: nothing to do, nothing written
    github.server.clear_log()
    assert run().exit_code == 0
    assert github.writes() == []


def test_a_pull_request_closed_without_merging_is_not_reopened_for_the_same_fixes(repo, github):
    assert run().exit_code == 0
    github.prs[0]["state"] = "closed"
    github.server.clear_log()
    r = run()
    assert r.exit_code == 0, r.output
    assert github.writes() == [] and "not reopening" in r.output
    # new fixes: a new pull request
    (repo[0] / "stacks" / "queue.json").write_text(QUEUE_JSON)
    commit_and_push(repo[0], "add a queue")
    assert run().exit_code == 0
    assert [w[0] for w in github.writes()] == ["POST"] and len(github.prs) == 2


def test_paths_select_and_safe_only_are_those_of_the_cli(repo, github):
    clone, remote = repo
    (clone / "other").mkdir()
    (clone / "other" / "queue.json").write_text(QUEUE_JSON)
    commit_and_push(clone, "add a queue elsewhere")
    assert run("--ignore", "OUT001").exit_code == 0
    assert remote_sha(remote, BRANCH) is None and github.writes() == []
    assert run("other").exit_code == 0
    changed = git(remote, "diff", "--name-only", "main", BRANCH)
    assert changed == "other/queue.json"


def test_enterprise_api_url_repo_and_token_options_and_the_default_identity(repo, httpserver, env):
    clone, remote = repo
    fake = FakeGitHub(httpserver, remote, prefix="/api/v3")
    env.setenv("GITHUB_REPOSITORY", "someone/else")
    env.delenv("GITHUB_TOKEN")
    git(clone, "config", "--unset", "user.name")
    git(clone, "config", "--unset", "user.email")
    r = run("--api-url", httpserver.url_for("/api/v3"), "--repo", REPO, "--token", TOKEN)
    assert r.exit_code == 0, r.output
    assert [w[:2] for w in fake.writes()] == [("POST", f"/api/v3/repos/{REPO}/pulls")]
    assert httpserver.log[0][0].headers["Authorization"] == f"Bearer {TOKEN}"
    author = git(remote, "log", "-1", "--format=%an <%ae>", BRANCH)
    assert author == "github-actions[bot] <41898282+github-actions[bot]@users.noreply.github.com>"


# ----- dry run, secrets, errors ---------------------------------------------------------------
def test_dry_run_prints_branch_message_and_body_and_pushes_nothing(repo, httpserver, env):
    clone, remote = repo
    env.delenv("GITHUB_TOKEN")  # not needed for a dry run
    env.setenv("GITHUB_API_URL", httpserver.url_for("/").rstrip("/"))
    head = git(clone, "rev-parse", "HEAD")
    r = run("--dry-run", "--branch", "bot/cfn")
    assert r.exit_code == 0, r.output
    assert "Branch: bot/cfn (from main at " in r.stdout
    assert "Commit message:\n\ncfnfix: fix 1 CloudFormation deploy issue in 1 template" in r.stdout
    assert "- OUT001 Output TopicArn" in r.stdout
    assert "Pull request into main:" in r.stdout and "### `stacks/api.yaml`" in r.stdout and "```diff" in r.stdout
    assert remote_sha(remote, "refs/heads/bot/cfn") is None
    assert httpserver.log == []
    assert_checkout_untouched(clone, head)


def test_the_token_is_never_printed(repo, github, env):
    clone, _ = repo
    r = run()
    assert r.exit_code == 0 and TOKEN not in r.output
    # a git error that would show it (a remote whose path holds the token) is redacted
    git(clone, "remote", "set-url", "origin", str(clone.parent / TOKEN / "missing.git"))
    r = run()
    assert r.exit_code == 2
    assert TOKEN not in r.output and "***" in r.output
    # and so is an API error
    github.fail = 401
    git(clone, "remote", "set-url", "origin", str(repo[1]))
    r = run("--token", TOKEN)
    assert r.exit_code == 2 and TOKEN not in r.output and "401" in r.output


def test_redact():
    assert redact(f"fatal: https://x-access-token:{TOKEN}@github.com/a/b.git", TOKEN) == "fatal: https://***@github.com/a/b.git"
    assert redact("https://user:pw@ghe.example/x and pw", None) == "https://***@ghe.example/x and pw"


def test_403_is_a_clear_error_and_nothing_is_pushed(repo, github):
    github.fail = 403
    r = run()
    assert r.exit_code == 2
    assert "HTTP 403" in r.output and "lacks permission" in r.output and "pull-requests: write" in r.output
    assert "Traceback" not in r.output
    assert remote_sha(repo[1], BRANCH) is None


def test_404_and_a_missing_token(repo, github, env):
    github.fail = 404
    r = run()
    assert r.exit_code == 2 and "not found, or the token cannot see it" in r.output
    env.delenv("GITHUB_TOKEN")
    r = run()
    assert r.exit_code == 2 and "no GitHub token" in r.output


def test_refuses_a_dirty_tree_unless_allowed(repo, httpserver):
    clone, _ = repo
    (clone / "README.md").write_text("changed\n")
    r = run()
    assert r.exit_code == 2 and "uncommitted changes" in r.output and "--allow-dirty" in r.output
    r = run("--allow-dirty", "--dry-run")
    assert r.exit_code == 0, r.output
    assert (clone / "README.md").read_text() == "changed\n", "the working tree is left as it was"
    assert httpserver.log == []


def test_never_pushes_to_the_base_branch(repo):
    r = run("--dry-run", "--branch", "main")
    assert r.exit_code == 2 and "never pushes there" in r.output
    r = run("--dry-run", "--base", "release", "--branch", "release")
    assert r.exit_code == 2


def test_templates_behind_symlinks_out_of_the_repository_are_left_alone(repo, tmp_path):
    clone, remote = repo
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "shared.yaml").write_text(API_YAML)
    (clone / "stacks" / "shared.yaml").symlink_to(outside / "shared.yaml")
    (clone / "linked").symlink_to(outside)
    commit_and_push(clone, "links")
    for args in ((), ("stacks/shared.yaml",), ("linked",)):
        r = run("--dry-run", *args)
        assert r.exit_code == 0, r.output
        assert "shared.yaml:\n- OUT001" not in r.stdout
    assert "a symlink out of the repository" in r.output
    assert (outside / "shared.yaml").read_text() == API_YAML


def test_bot_options_need_pr():
    r = CliRunner().invoke(main, ["--dry-run", "x.yaml"])
    assert r.exit_code == 2 and "only apply with --pr" in r.output
    r = CliRunner().invoke(main, ["--pr", "--write"])
    assert r.exit_code == 2


def test_outside_a_git_checkout(tmp_path, env):
    env.chdir(tmp_path)
    r = run("--dry-run")
    assert r.exit_code == 2 and "git checkout" in r.output


# ----- issue 15: a misbehaving API, redirects, foreign branches, signals, settings, refs --------
def _serve(httpserver, env, handler):
    env.setenv("GITHUB_API_URL", httpserver.url_for("/").rstrip("/"))
    httpserver.expect_request(re.compile(r"^/")).respond_with_handler(handler)


@pytest.mark.parametrize("answer, said", [
    (lambda r: _json({}), "not a list of pull requests"),                                          # 200 with {}
    (lambda r: _json([{"state": "open"}]), "not a list of pull requests"),                          # a PR without number
    (lambda r: _json([]) if r.method == "GET" else _json({"html_url": "x"}, 201), "not a pull request"),  # POST without number
    (lambda r: Response(b'[{"number": 1', status=200, content_type="application/json"), "the answer is not JSON"),
])
def test_a_misbehaving_api_is_a_clear_error_not_a_traceback(repo, httpserver, env, answer, said):
    _serve(httpserver, env, answer)
    r = run()
    assert r.exit_code == 2, r.output
    assert said in r.output and "Traceback" not in r.output and TOKEN not in r.output


def _raw_api(answer: bytes) -> tuple[str, object]:
    """A one-shot HTTP server on the loopback that sends ``answer`` as it is and hangs up."""
    import socket
    import threading

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)

    def serve():
        conn, _ = listener.accept()
        conn.recv(65536)
        conn.sendall(answer)
        conn.close()
        listener.close()

    t = threading.Thread(target=serve, daemon=True)
    t.start()
    return f"http://127.0.0.1:{listener.getsockname()[1]}", t


@pytest.mark.parametrize("answer", [
    b"HTTP/1.1 two hundred OK\r\n\r\n",                                            # a bad status line
    b"HTTP/1.1 200 OK\r\nContent-Length: 500\r\n\r\n[{\"number\": 1",          # the body cut short
])
def test_a_broken_http_answer_is_a_clear_error(repo, answer):
    url, server = _raw_api(answer)
    r = run("--api-url", url)
    server.join(60)
    assert r.exit_code == 2 and "cannot talk to the GitHub API" in r.output, r.output
    assert remote_sha(repo[1], BRANCH) is None


def test_malformed_api_urls_are_clear_errors(repo):
    for url, said in [("https://[::1", "malformed"), ("http://127.0.0.1:99999", "malformed"), ("ftp://example.com", "https://"),
                      ("https://user:pw@ghe.example/api/v3", "no credentials"), ("http://ghe.example/api/v3", "must use https://")]:
        r = run("--api-url", url)
        assert r.exit_code == 2 and said in r.output and "Traceback" not in r.output, (url, r.output)
        assert "pw" not in r.output


def test_the_token_never_follows_a_redirect_to_another_host(repo, httpserver, env):
    seen = []

    def handler(request):
        seen.append((request.host, request.path, request.headers.get("Authorization")))
        if request.path.startswith("/stolen"):
            return _json([])
        port = httpserver.port
        other = "127.0.0.1" if request.host.startswith("localhost") else "localhost"  # the same server, another host name
        return Response("", status=302, headers={"Location": f"http://{other}:{port}/stolen"})

    _serve(httpserver, env, handler)
    r = run()
    assert r.exit_code == 2 and "another host than the API's: not followed" in r.output, r.output
    assert [s for s in seen if s[1].startswith("/stolen")] == []
    assert remote_sha(repo[1], BRANCH) is None


def test_never_force_pushes_over_a_branch_cfnfix_did_not_make(repo, github):
    clone, remote = repo
    git(clone, "checkout", "--quiet", "-b", "feature")
    (clone / "notes.txt").write_text("my work\n")
    git(clone, "add", "notes.txt")
    git(clone, "commit", "--quiet", "-m", "my work")
    git(clone, "push", "--quiet", "origin", "feature")
    git(clone, "checkout", "--quiet", "main")
    theirs = remote_sha(remote, "refs/heads/feature")
    r = run("--branch", "feature")
    assert r.exit_code == 2 and "holds a commit cfnfix did not make" in r.output, r.output
    assert remote_sha(remote, "refs/heads/feature") == theirs and github.writes() == []
    # a branch cfnfix made, even by a version without the trailer, is still its own to update
    assert run().exit_code == 0
    fix1 = remote_sha(remote, BRANCH)
    assert git(remote, "log", "-1", "--format=%(trailers:key=Generated-by,valueonly)", BRANCH) == "cfnfix --pr"
    legacy = git(remote, "log", "-1", "--format=%B", BRANCH).replace("\n\nGenerated-by: cfnfix --pr", "")
    old = git(remote, "-c", "user.name=cfnfix 0.1", "-c", "user.email=bot@example.com", "commit-tree", f"{fix1}^{{tree}}",
              "-p", f"{fix1}^", "-m", legacy)
    git(remote, "update-ref", f"refs/heads/{BRANCH}", old)
    (clone / "stacks" / "queue.json").write_text(QUEUE_JSON)
    commit_and_push(clone, "add a queue")
    r = run()
    assert r.exit_code == 0, r.output
    assert remote_sha(remote, BRANCH) not in (old, fix1)


@pytest.mark.parametrize("name, said", [("", "is empty"), ("refs/heads/fix", "is a ref"), ("origin/fix", "remote's name"),
                                        ("@", "'@'"), ("fix@{1}", "'@'"), ("MAIN", "ignoring case"), ("-x", "leading '-'")])
def test_branch_names_that_are_not_a_plain_new_branch_are_refused(repo, name, said):
    r = run("--dry-run", "--branch", name)
    assert r.exit_code == 2 and said in r.output, r.output


_STOPPING_BOT = """
import os, sys, time
from cfnfix.bot import pull_request
def stop_here(self, worktree, rels, base):
    sys.stdout.write("paused\\n"); sys.stdout.flush()
    time.sleep(3600)
pull_request.Bot._fix = stop_here
from cfnfix.cli import main
main(["--pr", "--dry-run"])
"""


def _stopped_bot(clone: Path):
    import sys

    p = subprocess.Popen([sys.executable, "-c", _STOPPING_BOT], cwd=clone, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = p.stdout.readline()
    assert line == "paused\n", p.stderr.read()[-2000:]
    assert len(git(clone, "worktree", "list").splitlines()) == 2 and git(clone, "for-each-ref", "refs/cfnfix-tmp")
    return p


def test_sigterm_and_sighup_clean_up_and_a_killed_run_is_cleaned_up_by_the_next(repo):
    import signal

    clone, _ = repo
    head = git(clone, "rev-parse", "HEAD")
    for sig in (signal.SIGTERM, signal.SIGHUP):
        p = _stopped_bot(clone)
        p.send_signal(sig)
        _, err = p.communicate(timeout=300)
        assert p.returncode == 128 + sig and "stopped by" in err, err
        assert_checkout_untouched(clone, head)
    p = _stopped_bot(clone)
    p.kill()
    p.wait()
    left = [line.split()[0] for line in git(clone, "worktree", "list").splitlines()[1:]]
    assert left and git(clone, "for-each-ref", "refs/cfnfix-tmp")
    r = run("--dry-run")
    assert r.exit_code == 0, r.output
    assert "removed the temporary worktree a killed run left" in r.output
    assert_checkout_untouched(clone, head)
    assert not Path(left[0]).exists()


def test_settings_come_from_the_base_branch_not_from_the_checkout(repo, tmp_path):
    clone, remote = repo
    other = tmp_path / "other"
    git(tmp_path, "clone", "--quiet", str(remote), str(other))
    (other / ".cfnfix.toml").write_text('ignore = ["OUT001"]\n')
    git(other, "add", ".cfnfix.toml")
    git(other, "-c", "user.name=O", "-c", "user.email=o@example.com", "commit", "--quiet", "-m", "settings")
    git(other, "push", "--quiet", "origin", "HEAD:refs/heads/main")
    r = run("--dry-run")  # this checkout is behind: it has no .cfnfix.toml, main has
    assert r.exit_code == 0, r.output
    assert "settings from .cfnfix.toml on main" in r.output and "Nothing to fix on main" in r.stdout
    (clone / ".cfnfix.toml").write_text('select = ["NOPE"]\n')  # untracked, and not what is fixed
    r = run("--dry-run")
    assert r.exit_code == 0 and "Nothing to fix on main" in r.stdout, r.output


def test_exclude_and_per_file_ignores_hold_in_bot_mode_as_on_the_command_line(repo):
    """The base branch's ``exclude`` and ``per-file-ignores``, and the same options on the command
    line, leave files (or fixers on them) alone: the bot fixes what ``cfnfix DIR`` would."""
    clone, _ = repo
    (clone / "legacy").mkdir()
    (clone / "legacy" / "old.yaml").write_text(API_YAML)
    (clone / "stacks" / "web.yaml").write_text(API_YAML)
    (clone / ".cfnfix.toml").write_text('exclude = ["legacy/"]\n[per-file-ignores]\n"stacks/web.yaml" = ["OUT001"]\n')
    commit_and_push(clone, "more stacks")
    r = run("--dry-run")
    assert r.exit_code == 0, r.output
    assert "stacks/api.yaml" in r.stdout
    assert "legacy/old.yaml" not in r.stdout and "stacks/web.yaml" not in r.stdout, r.stdout
    r = run("--dry-run", "--exclude", "stacks/api.yaml", "--per-file-ignores", "legacy/*.yaml:OUT",
            "--extend-exclude", "nothing-here")
    assert r.exit_code == 0, r.output
    assert "Nothing to fix on main" in r.stdout, r.stdout  # legacy/ is no longer excluded, but OUT is off there
    r = run("--dry-run", "--force-exclude", "--exclude", "stacks/", "stacks/api.yaml")
    assert r.exit_code == 0 and "Nothing to fix on main" in r.stdout and "excluded by the settings" in r.output, r.output
    r = run("--dry-run", "--per-file-ignores", "legacy/*.yaml:NOPE")
    assert r.exit_code == 2 and "NOPE" in r.output and "Traceback" not in r.output, r.output


def test_a_dry_run_leaves_the_remote_tracking_refs_and_fetch_head_alone(repo, tmp_path):
    clone, remote = repo
    other = tmp_path / "other"
    git(tmp_path, "clone", "--quiet", str(remote), str(other))
    (other / "more.txt").write_text("x\n")
    git(other, "add", "more.txt")
    git(other, "-c", "user.name=O", "-c", "user.email=o@example.com", "commit", "--quiet", "-m", "more")
    git(other, "push", "--quiet", "origin", "HEAD:refs/heads/main")
    tracking = git(clone, "rev-parse", "refs/remotes/origin/main")
    fetch_head = clone / ".git" / "FETCH_HEAD"
    assert not fetch_head.exists()
    r = run("--dry-run")
    assert r.exit_code == 0, r.output
    assert git(clone, "rev-parse", "refs/remotes/origin/main") == tracking
    assert not fetch_head.exists()
    assert f"from main at {remote_sha(remote, 'main')[:12]}" in r.stdout  # it did fix the remote's tip


def test_the_pull_request_list_is_paged_and_a_rate_limit_is_not_a_permission_problem(repo, httpserver, env):
    clone, remote = repo
    body = "old body\n\n---\n*Generated by `cfnfix --pr`.* …"
    mine = {"number": 7, "state": "open", "title": "old", "body": body, "merged_at": None,
            "head": {"ref": BRANCH, "sha": "0" * 40}, "base": {"ref": "main"}, "html_url": "https://github.example/pr/7"}
    calls = []

    def handler(request):
        calls.append((request.method, request.full_path))
        if request.method == "GET" and request.args.get("page") == "2":
            return _json([mine])
        if request.method == "GET":
            nxt = httpserver.url_for(f"/repos/{REPO}/pulls") + f"?head=acme:{BRANCH}&state=all&page=2"
            return Response(json.dumps([]), status=200, content_type="application/json", headers={"Link": f'<{nxt}>; rel="next"'})
        if request.method == "PATCH":
            return _json(mine)
        return _json({"message": "Validation Failed"}, 422)

    _serve(httpserver, env, handler)
    r = run()
    assert r.exit_code == 0, r.output
    assert [c[0] for c in calls] == ["GET", "GET", "PATCH"] and "updated pull request #7" in r.output

    def limited(request):
        return Response(json.dumps({"message": "You have exceeded a secondary rate limit."}), status=403,
                        content_type="application/json", headers={"Retry-After": "120"})

    httpserver.clear()
    _serve(httpserver, env, limited)
    r = run()
    assert r.exit_code == 2 and "rate limited, retry after 120 s" in r.output and "lacks permission" not in r.output, r.output


def test_odd_file_names_and_backtick_fences_cannot_break_out_of_the_pull_request_body(repo):
    from cfnfix.reports.markdown import code_span

    clone, _ = repo
    name = "stacks/x`y @acme-admins <!--.yaml"
    (clone / name).write_text(API_YAML.replace("  TopicArn:\n", "  TopicArn:\n    Description: \"```\"\n", 1))
    commit_and_push(clone, "odd name")
    r = run("--dry-run")
    assert r.exit_code == 0, r.output
    assert f"### {code_span(name)}" in r.stdout and code_span(name).startswith("``s")
    assert "````diff\n" in r.stdout and "\n````" in r.stdout  # longer than the ``` inside


# ----- the GitHub Action and the pre-commit hooks -----------------------------------------------
ROOT = Path(__file__).resolve().parent.parent


def _action_step(name: str) -> str:
    from ruamel.yaml import YAML

    action = YAML(typ="safe").load((ROOT / "action.yml").read_text())
    return next(s for s in action["runs"]["steps"] if s["name"] == name)["run"]


def test_the_action_passes_every_path_of_a_multi_line_input(tmp_path):
    script = _action_step("Fix the templates in a pull request")
    fake = tmp_path / "cfnfix-venv" / "bin" / "cfnfix"
    fake.parent.mkdir(parents=True)
    fake.write_text('#!/bin/sh\nfor a in "$@"; do printf "%s\\n" "$a"; done\n')
    fake.chmod(0o755)
    env = {"PATH": os.environ["PATH"], "RUNNER_TEMP": str(tmp_path), "CFNFIX_PATHS": "infra\nstacks/api.yaml  other\n\n",
           "CFNFIX_BRANCH": "cfnfix/fixes", "CFNFIX_BASE": "", "CFNFIX_SELECT": "", "CFNFIX_EXTEND_SELECT": "", "CFNFIX_IGNORE": "",
           "CFNFIX_SAFE_ONLY": "false", "CFNFIX_DRY_RUN": "true"}
    out = subprocess.run(["bash", "-c", script], env=env, capture_output=True, text=True, check=True).stdout.splitlines()
    assert out == ["--pr", "--branch", "cfnfix/fixes", "--dry-run", "--", "infra", "stacks/api.yaml", "other"]
    env["CFNFIX_PATHS"] = ""
    out = subprocess.run(["bash", "-c", script], env=env, capture_output=True, text=True, check=True).stdout.splitlines()
    assert out[-1] == "--"


def test_the_action_installs_only_locked_hashed_dependencies():
    import tomllib

    script = _action_step("Install cfnfix")
    assert '--require-hashes --no-deps --only-binary :all: -r "$GITHUB_ACTION_PATH/action-requirements.txt"' in script
    assert '--no-deps --no-build-isolation --no-index "$GITHUB_ACTION_PATH"' in script
    lock = (ROOT / "action-requirements.txt").read_text()
    pinned = {}
    for m in re.finditer(r"^([A-Za-z0-9_.-]+)==([^\s;\\]+)[^\n]*\\\n((?:\s+--hash=sha256:[0-9a-f]{64}[ \\]*\n)+)", lock, re.M):
        pinned[re.sub(r"[-_.]+", "-", m.group(1).lower())] = m.group(2)
    requirements = [line for line in lock.splitlines() if re.match(r"[A-Za-z0-9]", line)]
    assert len(requirements) == len(pinned), "every requirement is pinned with its hashes"
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    for dep in deps:
        name = re.sub(r"[-_.]+", "-", re.match(r"[A-Za-z0-9_.-]+", dep).group().lower())
        assert name in pinned, f"{name} (a dependency of cfnfix) is not in action-requirements.txt"
    assert "setuptools" in pinned  # to build cfnfix itself without reaching an index


def test_pre_commit_passes_file_names_after_double_dash(tmp_path, env):
    import shlex

    from ruamel.yaml import YAML

    hooks = {h["id"]: h for h in YAML(typ="safe").load((ROOT / ".pre-commit-hooks.yaml").read_text())}
    (tmp_path / "evil.yaml").write_text('extend-select = ["LOG001"]\n')  # TOML, staged as .yaml
    (tmp_path / "--config=evil.yaml").write_text("x: 1\n")
    stack = "Resources:\n  Logs:\n    Type: AWS::Logs::LogGroup\n"
    (tmp_path / "stack.yaml").write_text(stack)
    env.chdir(tmp_path)
    for hook in ("cfnfix", "cfnfix-check"):
        h = hooks[hook]
        argv = shlex.split(h["entry"])[1:] + h.get("args", []) + ["--config=evil.yaml", "evil.yaml", "stack.yaml"]
        r = CliRunner().invoke(main, argv)
        assert r.exit_code == 0, (hook, r.output)  # the odd name is a file (not a template): passed over
        assert (tmp_path / "stack.yaml").read_text() == stack, "the file name was read as --config: LOG001 ran"
