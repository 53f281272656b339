"""A template file on disk: read exactly (bytes, UTF-8 text, stat), written back atomically."""

from __future__ import annotations

import os
import stat
import tempfile
from dataclasses import dataclass
from pathlib import Path

from ..errors import TemplateError
from ..text.document import MAX_BYTES


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
