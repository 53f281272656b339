"""YAML 1.1 scalar rules. CloudFormation reads YAML 1.1, where ``yes``, ``On``, ``n`` and ``0123``
are not strings: a plain scalar is resolved by these rules, and a new string that would resolve
to anything else is quoted when it is written."""

from __future__ import annotations

import math
import re

_NULL = re.compile(r"^(?:~|null|Null|NULL|)$")
_BOOL_TRUE = re.compile(r"^(?:yes|Yes|YES|true|True|TRUE|on|On|ON)$")
_BOOL_FALSE = re.compile(r"^(?:no|No|NO|false|False|FALSE|off|Off|OFF)$")
# y/n are booleans in the YAML 1.1 type repository even though PyYAML does not resolve them.
_BOOL_YN = re.compile(r"^(?:y|Y|n|N)$")
_INT = re.compile(
    r"""^(?:[-+]?0b[0-1_]+
        |[-+]?0[0-7_]+
        |[-+]?(?:0|[1-9][0-9_]*)
        |[-+]?0x[0-9a-fA-F_]+
        |[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+)$""",
    re.X,
)
_FLOAT = re.compile(
    r"""^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+]?[0-9]+)?
        |[-+]?(?:[0-9][0-9_]*)(?:[eE][-+]?[0-9]+)
        |\.[0-9_]+(?:[eE][-+][0-9]+)?
        |[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*
        |[-+]?\.(?:inf|Inf|INF)
        |\.(?:nan|NaN|NAN))$""",
    re.X,
)
_TIMESTAMP = re.compile(r"^[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}(?:[Tt ].*)?$")


_SPECIAL_WORDS = frozenset(
    "null Null NULL yes Yes YES true True TRUE on On ON no No NO false False FALSE off Off OFF".split()
)


def resolve_plain(text: str):
    """The value a plain (unquoted) scalar has under YAML 1.1, as PyYAML's SafeLoader sees it.

    Numbers stay as their text when they are not plain decimal, so that comparing the data
    before and after a fix never depends on octal or sexagesimal arithmetic.
    """
    if text and text[0].isalpha() and text not in _SPECIAL_WORDS:
        return text  # the common case: a word, never a number, bool or null
    if _NULL.match(text):
        return None
    if _BOOL_TRUE.match(text):
        return True
    if _BOOL_FALSE.match(text):
        return False
    if _INT.match(text):
        t = text.replace("_", "")
        if re.fullmatch(r"[-+]?(?:0|[1-9][0-9]*)", t):
            return int(t)
        return text
    if _FLOAT.match(text) and re.fullmatch(r"[-+]?[0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?", text.replace("_", "")):
        number = float(text.replace("_", ""))
        return number if math.isfinite(number) else text  # too large for a float: keep the digits
    return text


def is_plain_string(text: str) -> bool:
    """True when ``text`` written plain reads back as the same string under YAML 1.1."""
    if _NULL.match(text) or _BOOL_TRUE.match(text) or _BOOL_FALSE.match(text) or _BOOL_YN.match(text):
        return False
    if _INT.match(text) or _FLOAT.match(text) or _TIMESTAMP.match(text):
        return False
    return True


_PLAIN_FIRST_BAD = set("-?:,[]{}#&*!|>'\"%@`")


def can_be_plain(text: str, flow: bool = False) -> bool:
    """True when ``text`` may be written as a plain scalar in block (or flow) context."""
    if not text or text != text.strip() or not is_plain_string(text):
        return False
    if text[0] in _PLAIN_FIRST_BAD:
        return False
    if any(c in text for c in "\n\r\t") or any(ord(c) < 32 or ord(c) == 0x7F for c in text):
        return False
    if ": " in text or " #" in text or text.endswith(":"):
        return False
    if flow and any(c in text for c in ",[]{}"):
        return False
    return text.isprintable()
