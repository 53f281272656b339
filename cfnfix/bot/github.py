"""A small GitHub REST client over urllib: just the pull-request calls bot mode needs.

GitHub Actions' conventions: a token (GITHUB_TOKEN), ``owner/name`` (GITHUB_REPOSITORY) and the
API's base URL (GITHUB_API_URL; ``https://<host>/api/v3`` on GitHub Enterprise Server). The token
only ever travels in the Authorization header, only to the API's own host (``https://``; plain
``http://`` only to this machine), never along a redirect to another host, and is redacted from
every error message. Every answer is checked for the shape bot mode relies on: a misbehaving
server is a clear GitHubError, never a traceback.
"""

from __future__ import annotations

import http.client
import ipaddress
import json
import re
import time
from urllib.error import HTTPError, URLError
from urllib.parse import urlencode, urljoin, urlsplit
from urllib.request import HTTPRedirectHandler, HTTPSHandler, Request, build_opener

DEFAULT_API_URL = "https://api.github.com"
MAX_BODY = 65536  # GitHub rejects longer pull-request bodies
MAX_PAGES = 100  # of 100 pull requests each
MAX_ANSWER = 32 * 1024 * 1024  # bytes read from one answer at most


class GitHubError(Exception):
    def __init__(self, message: str, status: int | None = None):
        super().__init__(message)
        self.status = status


class PermissionDenied(GitHubError):
    """401/403/404: the token is wrong, lacks a permission, or cannot see the repository."""


class RateLimited(GitHubError):
    """403/429 for a (primary or secondary) rate limit: retry later, nothing is wrong."""


def redact(text: str, *secrets: str | None) -> str:
    """``text`` without the secrets, nor credentials written into URLs (``https://user:pw@host``)."""
    for s in secrets:
        if s:
            text = text.replace(s, "***")
    return re.sub(r"(\b[a-z][a-z0-9+.-]*://)[^/@\s]+@", r"\1***@", text, flags=re.I)


def _is_loopback(host: str) -> bool:
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def api_origin(url: str) -> tuple[str, str, int]:
    """(scheme, host, port) of a valid API URL; GitHubError for anything else: not http(s),
    no host, a bad port, credentials or a query in it, or ``http://`` to another machine
    (the token would cross the network in clear)."""
    shown = redact(url or "")
    try:
        parts = urlsplit(url or "")
        port = parts.port
        host = (parts.hostname or "").lower()
    except ValueError as e:
        raise GitHubError(f"the API URL {shown!r} is malformed: {e}") from None
    if parts.scheme not in ("https", "http") or not host:
        raise GitHubError(f"the API URL must be https://HOST[/PATH] (got {shown!r})")
    if parts.username is not None or parts.password is not None or parts.query or parts.fragment:
        raise GitHubError(f"the API URL must hold no credentials, query or fragment (got {shown!r}): the token goes in GITHUB_TOKEN")
    if any(c.isspace() or ord(c) < 32 for c in url):
        raise GitHubError(f"the API URL {shown!r} holds whitespace or control characters")
    if parts.scheme == "http" and not _is_loopback(host):
        raise GitHubError(f"the API URL must use https:// (got {shown!r}); plain http:// is accepted only for this machine")
    return parts.scheme, host, port or (443 if parts.scheme == "https" else 80)


def _origin(url: str) -> tuple[str, str, int] | None:
    """(scheme, host, port) of any URL, or None when it has none."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in ("https", "http") or not parts.hostname:
        return None
    return parts.scheme, parts.hostname.lower(), port or (443 if parts.scheme == "https" else 80)


class _SameOriginRedirects(HTTPRedirectHandler):
    """Follows a redirect only to the API's own scheme, host and port: urllib would otherwise
    send the Authorization header (the token) to whatever host the answer names."""

    def __init__(self, origin: tuple[str, str, int], token: str):
        self.origin = origin
        self.token = token

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        target = urljoin(req.full_url, newurl)
        if _origin(target) != self.origin:
            raise GitHubError(redact(f"the GitHub API answered {code} with a redirect to {target}, another host than the "
                                     "API's: not followed (the token goes only to the API's own host)", self.token), code)
        return super().redirect_request(req, fp, code, msg, headers, newurl)


class GitHub:
    def __init__(self, token: str, repo: str, api_url: str = DEFAULT_API_URL, timeout: float = 30):
        if not re.fullmatch(r"[\w.-]+/[\w.-]+", repo or ""):
            raise GitHubError(f"repository must be owner/name, not {repo!r}")
        self.origin = api_origin(api_url)
        self.token = token
        self.repo = repo
        self.owner = repo.split("/")[0]
        self.api_url = api_url.rstrip("/")
        self.timeout = timeout
        self.opener = build_opener(_SameOriginRedirects(self.origin, token), HTTPSHandler())

    def request(self, method: str, path: str, body: dict | None = None, query: dict | None = None, url: str | None = None):
        """The decoded JSON answer (None for an empty one) and the answer's headers."""
        from ..version import __version__

        url = url or f"{self.api_url}/repos/{self.repo}{path}" + (f"?{urlencode(query)}" if query else "")
        if _origin(url) != self.origin:
            raise GitHubError(redact(f"refusing to send the token to {url}: not the API's host", self.token))
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
        what = f"{method} {url.split('?')[0]}"
        try:
            with self.opener.open(Request(url, data=data, method=method, headers=headers), timeout=self.timeout) as resp:
                raw = resp.read(MAX_ANSWER + 1)
                answer_headers = resp.headers
                length = answer_headers.get("Content-Length", "")
                if length.strip().isdigit() and len(raw) < int(length) <= MAX_ANSWER:
                    raise http.client.IncompleteRead(raw, int(length) - len(raw))
        except HTTPError as e:
            raise self._error(e, what) from None
        except GitHubError:
            raise
        except (URLError, OSError, http.client.HTTPException, ValueError) as e:
            reason = getattr(e, "reason", None) or f"{type(e).__name__}: {e}"
            raise GitHubError(redact(f"cannot talk to the GitHub API ({what}): {reason}", self.token)) from None
        if len(raw) > MAX_ANSWER:
            raise GitHubError(redact(f"{what}: the answer is larger than {MAX_ANSWER // (1024 * 1024)} MB", self.token))
        try:
            return (json.loads(raw) if raw.strip() else None), answer_headers
        except ValueError:
            raise GitHubError(redact(f"{what}: the answer is not JSON (truncated?)", self.token)) from None

    def _error(self, e: HTTPError, what: str) -> GitHubError:
        try:
            detail = json.loads(e.read(65536) or b"{}").get("message", "")
        except (ValueError, AttributeError, OSError, http.client.HTTPException):
            detail = ""
        detail = str(detail)[:300]
        said = f"HTTP {e.code}" + (f" {detail!r}" if detail else "")
        headers = e.headers or {}
        wait = _retry_after(e.code, headers, detail)
        if wait is not None:
            return RateLimited(redact(f"GitHub API {what}: {said}: rate limited, retry after {wait} s", self.token), e.code)
        if e.code == 401:
            hint = "the token was rejected (check GITHUB_TOKEN or --token)"
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
        """Pull requests from ``branch`` of this repository, newest first, every page of them."""
        query = {"head": f"{self.owner}:{branch}", "state": state, "sort": "created", "direction": "desc", "per_page": 100}
        found: list[dict] = []
        url = None
        for _ in range(MAX_PAGES):
            page, headers = self.request("GET", "/pulls", query=query, url=url)
            if page is None:
                page = []
            if not isinstance(page, list) or not all(_is_pull(p) for p in page):
                raise GitHubError(f"GET {self.api_url}/repos/{self.repo}/pulls: the answer is not a list of pull requests")
            found.extend(page)
            url = _next_link(headers.get("Link", "") if headers else "")
            if not url:
                return found
            url = urljoin(f"{self.api_url}/", url)
        raise GitHubError(f"more than {MAX_PAGES} pages of pull requests from {branch}")

    def create_pull(self, title: str, body: str, head: str, base: str) -> dict:
        pr, _ = self.request("POST", "/pulls", {"title": title, "body": body, "head": head, "base": base})
        if not _is_pull(pr):
            raise GitHubError(f"POST {self.api_url}/repos/{self.repo}/pulls: the answer is not a pull request")
        return pr

    def update_pull(self, number: int, **fields) -> dict:
        pr, _ = self.request("PATCH", f"/pulls/{int(number)}", fields)
        if not isinstance(pr, dict):
            raise GitHubError(f"PATCH {self.api_url}/repos/{self.repo}/pulls/{number}: the answer is not a pull request")
        return pr


def _is_pull(p) -> bool:
    return isinstance(p, dict) and isinstance(p.get("number"), int) and not isinstance(p.get("number"), bool)


def _next_link(link: str) -> str | None:
    """The rel="next" URL of a Link header (RFC 8288), if any."""
    for part in link.split(","):
        m = re.match(r'\s*<([^>]*)>\s*;(.*)$', part)
        if m and re.search(r'\brel\s*=\s*"?([^";]*\s)?next(\s[^";]*)?"?(;|$)', m.group(2)):
            return m.group(1)
    return None


def _retry_after(status: int, headers, detail: str) -> int | None:
    """Seconds to wait when a 403/429 is a rate limit (primary or secondary), else None."""
    if status not in (403, 429):
        return None
    after = headers.get("Retry-After")
    if after is not None and str(after).strip().isdigit():
        return int(str(after).strip())
    if headers.get("X-RateLimit-Remaining") == "0":
        reset = str(headers.get("X-RateLimit-Reset") or "").strip()
        return max(0, int(reset) - int(time.time())) if reset.isdigit() else 60
    if status == 429 or "rate limit" in detail.lower():
        return 60  # GitHub: without Retry-After, wait at least a minute
    return None
