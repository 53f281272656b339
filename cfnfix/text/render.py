"""Write new values in the style of the file they go into.

YAML output follows the file's indentation, sequence offset, quote character and intrinsic form
(``!Ref X`` or ``Ref: X``), and quotes any string that YAML 1.1 would read as something else.
JSON output follows the file's indentation unit, key separator and list layout.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from .edits import EditError
from .nodes import LONG_TO_SHORT
from .style import Style
from .yaml11 import can_be_plain


# A JSON number too large for a float reads as infinity; it cannot be written back as it was.
_INFINITE = "a number too large for a 64-bit float cannot be written back (it reads as infinity)"


def _intrinsic(value: Any) -> tuple[str, Any] | None:
    if isinstance(value, dict) and len(value) == 1:
        (k, v), = value.items()
        if k in LONG_TO_SHORT:
            return k, v
    return None


def _short_form(value: Any, style: Style) -> tuple[str, Any] | None:
    """(function, argument) when ``value`` is written in short form (``!Sub x``): when the file
    uses it, and the argument is not itself a bare intrinsic — a node takes one tag, so
    ``!Base64 !Sub x`` does not parse; that is ``Fn::Base64: !Sub x``."""
    fn = _intrinsic(value)
    if fn and style.short_form and _intrinsic(fn[1]) is None:
        return fn
    return None


# ----- YAML ----------------------------------------------------------------------------------
def yaml_string(s: str, style: Style, flow: bool = False) -> str:
    if can_be_plain(s, flow=flow):
        return s
    if style.quote == "'" and s.isprintable():
        return "'" + s.replace("'", "''") + "'"
    return json.dumps(s, ensure_ascii=False)


def yaml_scalar(value: Any, style: Style, flow: bool = False) -> str:
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, float) and not math.isfinite(value):
        raise EditError(_INFINITE)
    if isinstance(value, (int, float)):
        return repr(value)
    return yaml_string(str(value), style, flow)


# YAML limits a key written without "?" to 1024 characters (libyaml refuses a longer one).
MAX_KEY = 1024


def yaml_key(key: str, style: Style, flow: bool = False) -> str:
    out = yaml_string(key, style, flow)
    if len(out) > MAX_KEY:
        raise EditError(f"a key of {len(out):,} characters cannot be written: YAML keys are at most {MAX_KEY:,}")
    return out


# What `!GetAtt Name.Attribute` may hold unquoted anywhere, flow context included.
_GETATT_PART = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:-]*")


def _short(fn: str, arg: Any, style: Style) -> str:
    tag = LONG_TO_SHORT[fn]
    if fn == "Fn::GetAtt" and isinstance(arg, list) and len(arg) == 2 and all(isinstance(a, str) and _GETATT_PART.fullmatch(a) for a in arg):
        return f"{tag} {arg[0]}.{arg[1]}"  # else the list form, whose items are quoted as they need
    return f"{tag} {yaml_flow(arg, style)}"


def yaml_flow(value: Any, style: Style) -> str:
    """One-line flow rendering, usable anywhere a YAML value may stand."""
    fn = _short_form(value, style)
    if fn:
        return _short(fn[0], fn[1], style)
    if isinstance(value, dict):
        return "{" + ", ".join(f"{yaml_key(k, style, True)}: {yaml_flow(v, style)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(yaml_flow(v, style) for v in value) + "]"
    return yaml_scalar(value, style, flow=True)


def _multiline_short(value: Any, style: Style) -> tuple[str, str] | None:
    """(tag, text) for a short-form intrinsic over a multi-line string: ``!Sub |`` block."""
    fn = _intrinsic(value)
    if fn and style.short_form and isinstance(fn[1], str) and "\n" in fn[1].rstrip("\n"):
        return LONG_TO_SHORT[fn[0]], fn[1]
    return None


def _is_inline(value: Any, style: Style) -> bool:
    if _multiline_short(value, style):
        return False
    if _short_form(value, style):
        return True
    if isinstance(value, (dict, list)):
        return not value
    return not (isinstance(value, str) and "\n" in value.rstrip("\n"))


def _literal(s: str, col: int, style: Style) -> str:
    body = s.rstrip("\n")
    trailing = len(s) - len(body)
    chomp = "-" if trailing == 0 else ("" if trailing == 1 else "+")
    pad = " " * col
    lines = [(pad + line) if line else "" for line in body.split("\n")]
    extra = [""] * (trailing - 1) if trailing > 1 else []
    head = "|" + (str(style.indent) if body.startswith((" ", "\t")) else "") + chomp
    return head + style.newline + style.newline.join(lines + extra)


def yaml_after_key(value: Any, key_col: int, style: Style) -> str:
    """What follows ``key:`` for a key at 0-based column ``key_col`` in block context."""
    nl = style.newline
    if _is_inline(value, style):
        return " " + yaml_flow(value, style)
    short = _multiline_short(value, style)
    if short:
        return f" {short[0]} " + _literal(short[1], key_col + style.indent, style)
    if isinstance(value, str):
        return " " + _literal(value, key_col + style.indent, style)
    if isinstance(value, dict):
        return nl + yaml_block_mapping(value, key_col + style.indent, style)
    return nl + yaml_block_sequence(value, key_col + style.seq_offset, style)


def yaml_block_mapping(value: dict, col: int, style: Style, first_inline: bool = False) -> str:
    lines = []
    for i, (k, v) in enumerate(value.items()):
        pad = "" if (first_inline and i == 0) else " " * col
        lines.append(pad + yaml_key(k, style) + ":" + yaml_after_key(v, col, style))
    return style.newline.join(lines)


def yaml_seq_item(value: Any, content_col: int, style: Style) -> str:
    """What follows ``-`` for an item whose content starts at 0-based ``content_col``."""
    if isinstance(value, dict) and value and not _short_form(value, style):
        return " " + yaml_block_mapping(value, content_col, style, first_inline=True)
    if isinstance(value, str) and not _is_inline(value, style):
        return " " + _literal(value, content_col, style)
    short = _multiline_short(value, style)
    if short:
        return f" {short[0]} " + _literal(short[1], content_col, style)
    return " " + yaml_flow(value, style)


def yaml_block_sequence(value: list, dash_col: int, style: Style) -> str:
    return style.newline.join(" " * dash_col + "-" + yaml_seq_item(v, dash_col + 2, style) for v in value)


# ----- JSON ----------------------------------------------------------------------------------
def _flat(value: Any) -> bool:
    """A short list of scalars and simple intrinsics, fine on one line."""
    if not isinstance(value, list) or len(value) > 4:
        return False
    return all(not isinstance(v, (dict, list)) or (_intrinsic(v) and not isinstance(_intrinsic(v)[1], (dict, list))) for v in value)


def _dumps(value: Any, **options) -> str:
    try:
        return json.dumps(value, ensure_ascii=False, allow_nan=False, **options)
    except ValueError:
        raise EditError(_INFINITE) from None


def json_scalar(value: Any) -> str:
    return _dumps(value)


def json_value(value: Any, indent: str, style: Style, multiline: bool = True) -> str:
    """JSON for ``value`` whose first line starts at indentation ``indent``."""
    if not multiline:
        return _dumps(value, separators=(", ", style.json_colon))
    nl, inner = style.newline, indent + style.json_indent
    fn = _intrinsic(value)
    if fn and style.json_inline_intrinsics and (not isinstance(fn[1], (dict, list)) or _flat(fn[1])):
        text = _dumps(value, separators=(", ", style.json_colon))
        return "{ " + text[1:-1] + " }" if style.json_brace_space else text
    if isinstance(value, dict):
        if not value:
            return "{}"
        members = [inner + json_scalar(k) + style.json_colon + json_value(v, inner, style) for k, v in value.items()]
        return "{" + nl + ("," + nl).join(members) + nl + indent + "}"
    if isinstance(value, list):
        if not value:
            return "[]"
        if style.json_inline_scalar_lists and not any(isinstance(v, (dict, list)) for v in value):
            return "[" + ", ".join(json_scalar(v) for v in value) + "]"
        return "[" + nl + ("," + nl).join(inner + json_value(v, inner, style) for v in value) + nl + indent + "]"
    return json_scalar(value)
