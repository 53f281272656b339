"""Line starts of a text after edits, worked out from the line starts before them.

Whether offset ``p`` starts a line depends only on the characters at ``p - 1`` and ``p`` (``\\r``
followed by ``\\n`` is one break), so a start whose break and next character are both outside the
edits only moves with them, and only the edited stretches are searched again. An editor's
keystroke or a fix's splice in a large template then costs what the edit costs, not a scan of the
whole text.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from typing import Iterable

BREAKS = re.compile("\r\n|[\n\r]")  # the protocol's line breaks; YAML's too in a text without NEL, LS, PS


def moved_starts(old: list[int], edits: Iterable[tuple[int, int, str]], new_text: str) -> list[int]:
    """The line starts of ``new_text``, which is the old text with ``edits`` (start, end,
    replacement; sorted, not overlapping, offsets into the old text) made; ``old`` are the old
    text's line starts, lines broken at CR, LF and CRLF only."""
    out: list[int] = [0]  # the first line starts the text, whatever the edits; the others follow breaks
    i, delta, n = 1, 0, len(new_text)
    for start, end, replacement in edits:
        j = bisect_left(old, start, i)
        last = out[-1]
        out += [o + delta for o in old[i:j] if o + delta > last]
        i = j
        a = start + delta
        b = a + len(replacement)
        for m in BREAKS.finditer(new_text, max(a - 2, 0), min(b + 2, n)):
            p = m.end()
            if a <= p <= b and not (new_text[p - 1] == "\r" and p < n and new_text[p] == "\n"):
                if p > out[-1]:
                    out.append(p)
        i = bisect_right(old, end, i)
        delta += len(replacement) - (end - start)
    last = out[-1]
    j = bisect_right(old, last - delta, i)  # starts the edits' new text already gave
    out += [o + delta for o in old[j:]]
    return out
