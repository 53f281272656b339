"""Text positions as the Language Server Protocol counts them, and the text edits between two
versions of a document.

LSP lines end at ``\\r\\n``, ``\\n`` or ``\\r`` only (YAML also breaks at NEL, LS and PS, and
Python's ``str.splitlines`` at a dozen more), and a column counts UTF-16 code units unless the
client and server agree on UTF-8 or UTF-32. ``LineIndex`` converts between those positions and
offsets into the Python string; the server keeps its own copy of each open document's text and
applies the client's incremental changes with it, so that both sides agree on every character.
"""

from __future__ import annotations

import difflib
import re
from bisect import bisect_right

from ..text.lines import moved_starts

_BREAKS = re.compile(r"\r\n|\n|\r")

UTF8, UTF16, UTF32 = "utf-8", "utf-16", "utf-32"


def _units(s: str, encoding: str) -> int:
    if encoding == UTF32 or s.isascii():
        return len(s)
    if encoding == UTF8:
        return len(s.encode("utf-8", "surrogatepass"))
    return len(s.encode("utf-16-le", "surrogatepass")) // 2


class LineIndex:
    """Offsets into ``text`` <-> (line, character) positions, both 0-based, in ``encoding`` units."""

    def __init__(self, text: str, encoding: str = UTF16, starts: list[int] | None = None):
        """``starts``: the lines' start offsets when the caller has them (counted as here)."""
        self.text = text
        self.encoding = encoding
        self.starts = starts if starts is not None else [0] + [m.end() for m in _BREAKS.finditer(text)]

    def changed(self, start: tuple[int, int], end: tuple[int, int], new: str) -> "LineIndex":
        """The index of the text with the range ``start``-``end`` (protocol positions) replaced by
        ``new``, its line starts moved rather than searched for again."""
        a, b = self.offset(*start), self.offset(*end)
        if b < a:
            a, b = b, a
        text = self.text[:a] + new + self.text[b:]
        return LineIndex(text, self.encoding, moved_starts(self.starts, [(a, b, new)], text))

    def _line_end(self, line: int) -> int:
        """Offset of the end of ``line``'s content (before its line break)."""
        if line + 1 >= len(self.starts):
            return len(self.text)
        end = self.starts[line + 1]
        return end - 2 if self.text.startswith("\r\n", end - 2) else end - 1

    def position(self, offset: int) -> tuple[int, int]:
        offset = max(0, min(offset, len(self.text)))
        line = bisect_right(self.starts, offset) - 1
        end = self._line_end(line)
        if offset > end:  # inside a \r\n pair: the end of the line
            offset = end
        return line, _units(self.text[self.starts[line]:offset], self.encoding)

    def offset(self, line: int, character: int) -> int:
        """The offset of a position; past the end of a line means its end, past the last line the
        end of the text (as the protocol says)."""
        if line < 0:
            return 0
        if line >= len(self.starts):
            return len(self.text)
        start, end = self.starts[line], self._line_end(line)
        if character <= 0:
            return start
        content = self.text[start:end]
        if self.encoding == UTF32 or content.isascii():
            return start + min(character, len(content))
        seen = 0
        for i, ch in enumerate(content):
            if seen >= character:
                return start + i
            seen += _units(ch, self.encoding)
        return end


def apply_change(text: str, start: tuple[int, int] | None, end: tuple[int, int] | None, new: str,
                 encoding: str = UTF16) -> str:
    """``text`` with the range ``start``-``end`` replaced by ``new``; no range replaces everything."""
    if start is None or end is None:
        return new
    return LineIndex(text, encoding).changed(start, end, new).text


def text_edits(old: str, new: str) -> list[tuple[int, int, str]]:
    """Non-overlapping (start, end, replacement) edits of ``old`` that make ``new``, whole lines
    each, one per changed region (so that an editor keeps its marks and folds elsewhere).
    Applying them to ``old`` gives exactly ``new``."""
    if old == new:
        return []
    # The common head and tail, in whole lines, are left out of the comparison.
    a, b = old.splitlines(keepends=True), new.splitlines(keepends=True)
    head = 0
    while head < len(a) and head < len(b) and a[head] == b[head]:
        head += 1
    tail = 0
    while tail < len(a) - head and tail < len(b) - head and a[-1 - tail] == b[-1 - tail]:
        tail += 1
    a_mid, b_mid = a[head:len(a) - tail], b[head:len(b) - tail]
    offsets = [0]
    for line in a:
        offsets.append(offsets[-1] + len(line))
    edits = []
    matcher = difflib.SequenceMatcher(None, a_mid, b_mid, autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            continue
        edits.append((offsets[head + i1], offsets[head + i2], "".join(b_mid[j1:j2])))
    return edits


def apply_edits(text: str, edits: list[tuple[int, int, str]]) -> str:
    """Apply non-overlapping (start, end, replacement) edits of ``text``."""
    out, last = [], 0
    for start, end, replacement in sorted(edits, key=lambda e: (e[0], e[1])):
        out.append(text[last:start])
        out.append(replacement)
        last = end
    out.append(text[last:])
    return "".join(out)


def changed_span(old: str, new: str) -> tuple[int, int, str]:
    """The one edit (start, end, replacement) of ``old`` that makes ``new``: everything between
    their common head and their common tail. Found by halving, with slice comparisons (memcmp),
    so that a keystroke in a large document costs little."""
    n = min(len(old), len(new))
    lo, hi = 0, n  # the head is at least lo long and at most hi
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if old[lo:mid] == new[lo:mid]:
            lo = mid
        else:
            hi = mid - 1
    head = lo
    lo, hi = 0, n - head
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if old[len(old) - mid:len(old) - lo] == new[len(new) - mid:len(new) - lo]:
            lo = mid
        else:
            hi = mid - 1
    tail = lo
    return head, len(old) - tail, new[head:len(new) - tail]
