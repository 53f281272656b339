"""A template file on disk: read exactly (bytes, UTF-8 text, stat), written back atomically.

Reading takes only regular files (never a FIFO, a device or a socket, which could block or never
end) and never more than the size limit, whatever the file says its size is. Writing replaces
the file by renaming a complete, flushed temporary file over it, and only when the user may
write the file itself and it still holds the bytes that were read (see ``write_atomic``).
"""

from __future__ import annotations

import errno
import os
import stat
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from ..errors import TemplateError
from ..text.document import MAX_BYTES

TMP_SUFFIX = ".cfnfix.tmp"
# A temporary file of ours this old was left by a run that was killed: the next write removes it.
STALE_TMP_SECONDS = 15 * 60
_CHUNK = 1 << 20


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
    if b"\x00" in raw:
        i = raw.index(b"\x00")
        line = raw.count(b"\n", 0, i) + 1
        raise TemplateError("binary file (NUL byte): not a template", line, i - (raw.rfind(b"\n", 0, i) + 1) + 1, name)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as e:
        line = raw.count(b"\n", 0, e.start) + 1
        col = len(raw[raw.rfind(b"\n", 0, e.start) + 1 : e.start].decode("utf-8", "replace")) + 1
        raise TemplateError(f"not UTF-8 text (byte 0x{raw[e.start]:02x})", line, col, name) from None


def too_large(name: str) -> TemplateError:
    return TemplateError(f"file is larger than the {MAX_BYTES // (1024 * 1024)} MB limit", 1, 1, name)


def read_limited(read: Callable[[int], bytes], name: str, limit: int = MAX_BYTES) -> bytes:
    """Everything ``read(n)`` returns until it returns nothing, or TemplateError as soon as
    that is more than ``limit`` bytes: a file that grows, a pipe or /dev/zero never makes
    cfnfix read more than the limit."""
    chunks = []
    total = 0
    while True:
        chunk = read(min(_CHUNK, limit + 1 - total))
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)
        total += len(chunk)
        if total > limit:
            raise too_large(name)


def read_stdin(stream, name: str = "<stdin>") -> bytes:
    """Standard input (a binary stream), bounded by the size limit."""
    read = getattr(stream, "read1", None) or stream.read
    return read_limited(read, name)


def _kind(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def _os_error(e: OSError, name: str) -> TemplateError:
    if isinstance(e, IsADirectoryError):
        return TemplateError("is a directory", 1, 1, name)
    if isinstance(e, FileNotFoundError):
        return TemplateError("no such file", 1, 1, name)
    if isinstance(e, PermissionError):
        return TemplateError("permission denied: cannot read the file", 1, 1, name)
    if e.errno == errno.ELOOP:
        return TemplateError("symlink loop: the link never reaches a file", 1, 1, name)
    return TemplateError(f"cannot read the file: {e.strerror or e}", 1, 1, name)


def read_source(path: Path) -> Source:
    """The file's bytes, text and stat. Only a regular file is opened (checked before opening,
    so that a FIFO cannot block and a device is never opened, and again on the open file),
    and never more than MAX_BYTES are read."""
    name = str(path)
    try:
        st = os.stat(path)
        if stat.S_ISDIR(st.st_mode):
            raise TemplateError("is a directory", 1, 1, name)
        if not stat.S_ISREG(st.st_mode):
            raise TemplateError(f"{_kind(st.st_mode)}: cfnfix reads only regular files (pipe a stream to `cfnfix -`)", 1, 1, name)
        if st.st_size > MAX_BYTES:
            raise too_large(name)
        flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_BINARY", 0)
        fd = os.open(path, flags)
        try:
            st = os.fstat(fd)
            if not stat.S_ISREG(st.st_mode):  # swapped for something else since the check
                raise TemplateError(f"{_kind(st.st_mode)}: cfnfix reads only regular files", 1, 1, name)
            raw = read_limited(lambda n: os.read(fd, n), name)
            st = os.fstat(fd)
        finally:
            os.close(fd)
    except OSError as e:
        raise _os_error(e, name) from None
    return Source(path, raw, decode(raw, name), st)


def _identity(st: os.stat_result) -> tuple:
    """What changes when a file is written or replaced (the change time cannot be set back)."""
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


def _tmp_prefix(name: str) -> str:
    return f".{name[:180]}."  # the temporary name must stay under the file system's name limit


def remove_stale_tmp(directory: Path, name: str, now: float | None = None) -> list[Path]:
    """Remove the temporary files a killed run left beside ``name``: ours by name pattern, owned
    by this user, and older than STALE_TMP_SECONDS (a run still writing has a fresh one)."""
    now = time.time() if now is None else now
    prefix = _tmp_prefix(name)
    removed = []
    try:
        entries = list(os.scandir(directory))
    except OSError:
        return removed
    uid = os.getuid() if hasattr(os, "getuid") else None
    for entry in entries:
        if not (entry.name.startswith(prefix) and entry.name.endswith(TMP_SUFFIX)):
            continue
        middle = entry.name[len(prefix) : -len(TMP_SUFFIX)]
        if not middle or "." in middle or "/" in middle:
            continue  # not mkstemp's random part: not ours
        try:
            st = entry.stat(follow_symlinks=False)
            if not stat.S_ISREG(st.st_mode) or (uid is not None and st.st_uid != uid):
                continue
            if now - st.st_mtime < STALE_TMP_SECONDS:
                continue
            os.unlink(entry.path)
            removed.append(Path(entry.path))
        except OSError:
            continue
    return removed


@contextmanager
def _directory_lock(directory: Path):
    """An exclusive lock on the directory, held by cfnfix runs for the last check and the
    rename (so two runs never interleave them); best effort where the system has none."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        yield
        return
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        yield
        return
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
        except OSError:
            pass  # e.g. a network file system without flock on directories
        yield
    finally:
        os.close(fd)  # releases the lock


def _copy_xattrs(src: Path, dst: str) -> None:
    """Extended attributes (and so POSIX ACLs) of ``src`` onto ``dst``, where the system and
    the user's rights allow; security labels the user may not set are left as they are."""
    if not hasattr(os, "listxattr"):
        return
    try:
        names = os.listxattr(src)
    except OSError:
        return
    for attr in names:
        try:
            os.setxattr(dst, attr, os.getxattr(src, attr))
        except OSError:
            pass


def write_atomic(source: Source, text: str) -> None:
    """Replace the file with ``text`` in one rename.

    Refused (OSError, nothing written) when the file is read-only, when this user may not
    write the file itself (a writable directory is not enough), or when it has more than one
    hard link (a rename would leave the other names with the old content). The new file keeps
    the mode (setuid/setgid bits too when the owner is kept), the owner and group where the
    user may set them, and the extended attributes (POSIX ACLs) the system lets it copy.

    The new content goes to a temporary file in the same directory, is flushed to disk, and
    replaces the original only if the original still holds the bytes that were read: the bytes
    are compared, then — under a lock on the directory that other cfnfix runs honour — the
    file's identity (inode, size, modification and change times) is checked once more, right
    before the rename, against what it was before the comparison. A file edited meanwhile is
    left alone (FileChanged). An interrupted run leaves the old file or the new one, never a mix;
    a temporary file a killed run leaves behind is removed by a later write (remove_stale_tmp).
    """
    path = source.path
    target = Path(os.path.realpath(path))
    st = source.stat or target.stat()
    if not st.st_mode & 0o222:
        raise PermissionError(errno.EACCES, "the file is read-only; not written")
    if not os.access(target, os.W_OK):
        raise PermissionError(errno.EACCES, "you may not write this file (a writable folder is not enough); not written")
    if st.st_nlink > 1:
        raise OSError(errno.EMLINK, f"the file has {st.st_nlink} hard links, which replacing it would break "
                                    "(the other names would keep the old content); not written")
    remove_stale_tmp(target.parent, target.name)
    data = text.encode("utf-8")
    fd, tmp = tempfile.mkstemp(prefix=_tmp_prefix(target.name), suffix=TMP_SUFFIX, dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        mode = stat.S_IMODE(st.st_mode)
        kept_owner = True
        if hasattr(os, "chown"):
            try:
                os.chown(tmp, st.st_uid, st.st_gid)
            except OSError:
                kept_owner = False
                try:
                    os.chown(tmp, -1, st.st_gid)
                except OSError:
                    pass
        _copy_xattrs(target, tmp)
        if not kept_owner:
            mode &= ~(stat.S_ISUID | stat.S_ISGID)  # never a setuid file with a new owner
        os.chmod(tmp, mode)  # after chown, which clears setuid/setgid
        changed = FileChanged(f"{path}: changed on disk while cfnfix was working; not overwritten")
        before = os.stat(target)
        if not stat.S_ISREG(before.st_mode) or before.st_size != len(source.raw) or target.read_bytes() != source.raw:
            raise changed
        with _directory_lock(target.parent):
            if _identity(os.stat(target)) != _identity(before):
                raise changed  # saved while the comparison read it
            os.replace(tmp, target)
        tmp = None
    except FileNotFoundError:
        raise FileChanged(f"{path}: removed or renamed while cfnfix was working; not written") from None
    finally:
        if tmp is not None:
            try:
                os.unlink(tmp)
            except OSError:
                pass
