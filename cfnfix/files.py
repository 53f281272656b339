"""Files on disk: finding templates, reading them exactly, writing them atomically."""

from __future__ import annotations

import os
import re
import stat
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from .document import MAX_BYTES
from .errors import TemplateError

TEMPLATE_SUFFIXES = (".yaml", ".yml", ".json", ".template")
SKIP_DIRS = {".git", ".hg", ".svn", "node_modules", ".venv", "venv", "__pycache__", ".tox", ".mypy_cache", ".pytest_cache", "cdk.out", ".aws-sam"}
_LOOKS_LIKE_TEMPLATE = re.compile(r'AWSTemplateFormatVersion|^[\s{]*"?Resources"?\s*:', re.M)


class FileChanged(Exception):
    """The file changed on disk between reading it and writing the fix."""


@dataclass
class Source:
    path: Path
    raw: bytes
    text: str
    stat: os.stat_result | None = None


def decode(raw: bytes, name: str) -> str:
    """UTF-8 text of a file, newlines untouched; TemplateError for binary or non-UTF-8 data."""
    if b"\x00" in raw[:8192] or b"\x00" in raw:
        i = raw.index(b"\x00")
        line = raw.count(b"\n", 0, i) + 1
        raise TemplateError("binary file (NUL byte): not a template", line, i - (raw.rfind(b"\n", 0, i) + 1) + 1, name)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as e:
        line = raw.count(b"\n", 0, e.start) + 1
        col = len(raw[raw.rfind(b"\n", 0, e.start) + 1 : e.start].decode("utf-8", "replace")) + 1
        raise TemplateError(f"not UTF-8 text (byte 0x{raw[e.start]:02x})", line, col, name) from None


def read_source(path: Path) -> Source:
    name = str(path)
    try:
        st = path.stat()
        if st.st_size > MAX_BYTES:
            raise TemplateError(f"file is larger than the {MAX_BYTES // (1024 * 1024)} MB limit", 1, 1, name)
        raw = path.read_bytes()
    except IsADirectoryError:
        raise TemplateError("is a directory", 1, 1, name) from None
    except FileNotFoundError:
        raise TemplateError("no such file", 1, 1, name) from None
    except PermissionError:
        raise TemplateError("permission denied: cannot read the file", 1, 1, name) from None
    except OSError as e:
        raise TemplateError(f"cannot read the file: {e.strerror or e}", 1, 1, name) from None
    return Source(path, raw, decode(raw, name), st)


def write_atomic(source: Source, text: str) -> None:
    """Replace the file with ``text`` in one rename, keeping its mode (and owner where allowed).

    The new content goes to a temporary file in the same directory, is flushed to disk, and
    replaces the original only if the original still holds the bytes that were read: a file
    edited meanwhile is left alone (FileChanged). An interrupted run leaves the old file or the
    new one, never a mix.
    """
    path = source.path
    target = Path(os.path.realpath(path))
    st = source.stat or target.stat()
    if not st.st_mode & 0o222:
        raise PermissionError(13, "the file is read-only; not written")
    data = text.encode("utf-8")
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".cfnfix.tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, stat.S_IMODE(st.st_mode))
        if hasattr(os, "chown"):
            try:
                os.chown(tmp, st.st_uid, st.st_gid)
            except OSError:
                pass
        if target.read_bytes() != source.raw:
            raise FileChanged(f"{path}: changed on disk while cfnfix was working; not overwritten")
        os.replace(tmp, target)
        tmp = None
    finally:
        if tmp is not None:
            try:
                os.unlink(tmp)
            except OSError:
                pass


# ----- discovery -----------------------------------------------------------------------------
class _GitIgnore:
    """The .gitignore files from a root down, applied to paths relative to their own folder."""

    def __init__(self):
        self.specs: list[tuple[Path, object]] = []

    def add_dir(self, directory: Path) -> None:
        gi = directory / ".gitignore"
        if gi.is_file():
            import pathspec

            try:
                lines = gi.read_text(encoding="utf-8", errors="replace").splitlines()
            except OSError:
                return
            self.specs.append((directory, pathspec.GitIgnoreSpec.from_lines(lines)))

    def ignored(self, path: Path, is_dir: bool) -> bool:
        for base, spec in self.specs:
            try:
                rel = path.relative_to(base).as_posix()
            except ValueError:
                continue
            if spec.match_file(rel + ("/" if is_dir else "")):
                return True
        return False


def _git_root(start: Path) -> Path | None:
    for d in [start, *start.parents]:
        if (d / ".git").exists():
            return d
    return None


def discover(paths: list[Path], on_error=None) -> Iterator[tuple[Path, bool]]:
    """(path, explicit) for each file to look at. Explicit files are always processed;
    files found in directories only when they look like templates (see ``looks_like_template``).
    A directory that cannot be read is passed to ``on_error(path, message)``."""

    def walk_error(error: OSError) -> None:
        if on_error is not None:
            on_error(error.filename or "?", f"cannot read the directory: {error.strerror or error}")

    for p in paths:
        if not p.is_dir():
            yield p, True
            continue
        root = p.resolve()
        ignore = _GitIgnore()
        repo = _git_root(root)
        if repo is not None and repo != root:
            # .gitignore files between the repository root and the folder asked for
            chain = [d for d in [root, *root.parents] if d == repo or repo in d.parents]
            for d in reversed(chain[1:]):
                ignore.add_dir(d)
        for dirpath, dirnames, filenames in os.walk(p, followlinks=False, onerror=walk_error):
            d = Path(dirpath)
            ignore.add_dir(d.resolve())
            keep = []
            for name in sorted(dirnames):
                full = (d / name)
                if name in SKIP_DIRS or full.is_symlink() or ignore.ignored(full.resolve(), True):
                    continue
                keep.append(name)
            dirnames[:] = keep
            for name in sorted(filenames):
                if not name.lower().endswith(TEMPLATE_SUFFIXES):
                    continue
                full = d / name
                real = full.resolve()
                if full.is_symlink() and root not in real.parents:
                    continue  # a link out of the tree: not ours to rewrite
                if ignore.ignored(real if not full.is_symlink() else full.absolute(), False):
                    continue
                yield full, False


def looks_like_template(text: str) -> bool:
    return bool(_LOOKS_LIKE_TEMPLATE.search(text))
