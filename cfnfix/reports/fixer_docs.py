"""A fixer's documentation as ``cfnfix --explain`` shows it: the ruff-style sections, plus the
YAML examples converted to JSON with cfn-flip so that every rule shows both formats."""

from __future__ import annotations

import re

from ..fixing.fixer import Fixer

_YAML_BLOCK = re.compile(r"```yaml\n(.*?)```", re.S)


def json_examples(docs: str) -> list[str]:
    from cfn_flip import to_json

    out = []
    for block in _YAML_BLOCK.findall(docs):
        try:
            out.append(to_json(block).strip())
        except Exception:  # an illustrative fragment that is not a whole mapping
            continue
    return out


def render(cls: type[Fixer]) -> str:
    lines = [f"# {cls.code} ({cls.name})", "", cls.summary, ""]
    lines.append(f"Safety: {cls.safety.value}. " + ("On by default." if cls.default else f"Opt-in: enable with --select {cls.code}."))
    if cls.options:
        lines.append("Options: " + ", ".join(f"{k} (default {v!r})" for k, v in cls.options.items()))
    lines.append(cls.docs.rstrip())
    examples = json_examples(cls.docs)
    if examples:
        lines += ["", "## Example in JSON", ""]
        for ex in examples:
            lines += ["```json", ex, "```"]
    return "\n".join(lines)
