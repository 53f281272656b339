"""A small GitHub REST client over urllib: just the pull-request calls bot mode needs.

GitHub Actions' conventions: a token (GITHUB_TOKEN), ``owner/name`` (GITHUB_REPOSITORY) and the
API's base URL (GITHUB_API_URL; ``https://<host>/api/v3`` on GitHub Enterprise Server). The token
only ever travels in the Authorization header and is redacted from every error message.
"""

from __future__ import annotations

import json
import re
from urllib.error import HTTPError, URLError
from urllib.parse import urlencode
from urllib.request import Request, urlopen

DEFAULT_API_URL = "https://api.github.com"
MAX_BODY = 65536  # GitHub rejects longer pull-request bodies


class GitHubError(Exception):
    def __init__(self, message: str, status: int | None = None):
        super().__init__(message)
        self.status = status


class PermissionDenied(GitHubError):
    """401/403/404: the token is wrong, lacks a permission, or cannot see the repository."""


def redact(text: str, *secrets: str | None) -> str:
    """``text`` without the secrets, nor credentials written into URLs (``https://user:pw@host``)."""
    for s in secrets:
        if s:
            text = text.replace(s, "***")
    return re.sub(r"(\b[a-z][a-z0-9+.-]*://)[^/@\s]+@", r"\1***@", text, flags=re.I)


class GitHub:
    def __init__(self, token: str, repo: str, api_url: str = DEFAULT_API_URL, timeout: float = 30):
        if not re.fullmatch(r"[\w.-]+/[\w.-]+", repo or ""):
            raise GitHubError(f"repository must be owner/name, not {repo!r}")
        if not re.match(r"https?://", api_url or ""):
            raise GitHubError(f"the API URL must start with https:// (got {redact(api_url, token)!r})")
        self.token = token
        self.repo = repo
        self.owner = repo.split("/")[0]
        self.api_url = api_url.rstrip("/")
        self.timeout = timeout

    def request(self, method: str, path: str, body: dict | None = None, query: dict | None = None):
        from ..version import __version__

        url = f"{self.api_url}/repos/{self.repo}{path}" + (f"?{urlencode(query)}" if query else "")
        headers = {
            "Accept": "application/vnd.github+json",
            "Authorization": f"Bearer {self.token}",
            "X-GitHub-Api-Version": "2022-11-28",
            "User-Agent": f"cfnfix/{__version__}",
        }
        data = None
        if body is not None:
            data = json.dumps(body).encode("utf-8")
            headers["Content-Type"] = "application/json"
        what = f"{method} {self.api_url}/repos/{self.repo}{path}"
        try:
            with urlopen(Request(url, data=data, method=method, headers=headers), timeout=self.timeout) as resp:
                raw = resp.read()
        except HTTPError as e:
            raise self._error(e, what) from None
        except (URLError, OSError) as e:
            reason = getattr(e, "reason", e)
            raise GitHubError(redact(f"cannot reach the GitHub API ({what}): {reason}", self.token)) from None
        try:
            return json.loads(raw) if raw.strip() else None
        except ValueError:
            raise GitHubError(redact(f"{what}: the answer is not JSON", self.token)) from None

    def _error(self, e: HTTPError, what: str) -> GitHubError:
        try:
            detail = json.loads(e.read() or b"{}").get("message", "")
        except (ValueError, AttributeError, OSError):
            detail = ""
        said = f"HTTP {e.code}" + (f" {detail!r}" if detail else "")
        if e.code == 401:
            hint = "the token was rejected (check GITHUB_TOKEN or --token)"
        elif e.code == 403 and e.headers.get("X-RateLimit-Remaining") == "0":
            hint = "the API rate limit is exhausted; try again later"
        elif e.code == 403:
            hint = ("the token lacks permission: give the workflow `permissions: contents: write` and "
                    "`pull-requests: write` (and allow GitHub Actions to create pull requests in the "
                    "repository's settings)")
        elif e.code == 404:
            hint = f"repository {self.repo} not found, or the token cannot see it"
        else:
            return GitHubError(redact(f"GitHub API {what}: {said}", self.token), e.code)
        return PermissionDenied(redact(f"GitHub API {what}: {said}: {hint}", self.token), e.code)

    # ----- pull requests -----------------------------------------------------------------------
    def pulls(self, branch: str, state: str = "all") -> list[dict]:
        """Pull requests from ``branch`` of this repository, newest first."""
        query = {"head": f"{self.owner}:{branch}", "state": state, "sort": "created", "direction": "desc", "per_page": 100}
        return self.request("GET", "/pulls", query=query) or []

    def create_pull(self, title: str, body: str, head: str, base: str) -> dict:
        return self.request("POST", "/pulls", {"title": title, "body": body, "head": head, "base": base})

    def update_pull(self, number: int, **fields) -> dict:
        return self.request("PATCH", f"/pulls/{number}", fields)
