"""The explanation as markdown, for a pull request's body (``--format markdown``, bot mode)."""

from __future__ import annotations

from .explanation import Detail, detail_line
from .terminal import plural


DIFF_COLLAPSE_LINES = 40


def render_markdown(records: list[dict], errors: list[dict] | None = None) -> str:
    changed = [r for r in records if r["changes"] or r["available"] or r["findings"] or r.get("refused")]
    fixes = sum(len(r["changes"]) for r in records)
    unsafe = sum(c["safety"] == "unsafe" for r in records for c in r["changes"])
    templates = sum(bool(r["changes"]) for r in records)
    out = [f"## cfnfix: {plural(fixes, 'fix')} in {plural(templates, 'template')}"]
    if unsafe:
        out.append("")
        verb = "is" if unsafe == 1 else "are"
        out.append(f"> [!WARNING]\n> {unsafe} of these fixes {verb} **unsafe**: they change what gets deployed. Review them first.")
    for r in changed:
        out.append("")
        out.append(f"### {code_span(r['path'])}")
        out.append("")
        for c in r["changes"]:
            mark = "⚠️ **unsafe**" if c["safety"] == "unsafe" else "safe"
            out.append(f"- **{c['code']}** ({mark}) {c['message']}")
            if c["why"]:
                out.append(f"  - *Why:* {c['why']}")
            for d in c["details"]:
                out.append(f"  - `{detail_line(Detail(d['kind'], tuple(d['path']), d.get('old'), d.get('new')))}`")
        for c in r["available"]:
            out.append(f"- **{c['code']}** (not applied, {c['safety']}) {c['message']}")
        for c in r.get("refused", ()):
            out.append(f"- **{c['code']}** (refused: it would make the template worse) {c['message']} — {c['reason']}")
        for f in r["findings"]:
            out.append(f"- **{f['code']}** (needs a person) {f['message']}")
        diff = r.get("diff")
        if diff:
            n = diff.count("\n")
            fence = code_fence(diff)
            block = f"{fence}diff\n{diff.rstrip()}\n{fence}"
            if n > DIFF_COLLAPSE_LINES:
                out.append("")
                out.append(f"<details><summary>Diff ({n} lines)</summary>\n\n{block}\n\n</details>")
            else:
                out.append("")
                out.append(block)
    for e in errors or []:
        out.append("")
        where = f"{e['path']}:{e['line']}:{e['column']}" if e.get("line") else e["path"]
        out.append(f"- ❌ {code_span(where)}: {e['message']}")
    return "\n".join(out) + "\n"


def code_span(text: str) -> str:
    """``text`` as an inline code span that nothing in it can end early: the backtick fence is
    longer than any run of backticks inside, so a file name holding a backtick, ``@team`` or
    ``<!--`` stays literal text (no mention, no hidden comment); line breaks and other control
    characters are shown escaped."""
    text = "".join(c if c.isprintable() or c == " " else repr(c)[1:-1] for c in str(text))
    fence = "`" * (_longest_backtick_run(text) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") or not text.strip() else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def code_fence(text: str) -> str:
    """A fence for a code block of ``text``: longer than any run of backticks in it (at least
    three), so a line of the template holding ``` does not end the block."""
    return "`" * max(3, _longest_backtick_run(text) + 1)


def _longest_backtick_run(text: str) -> int:
    longest = run = 0
    for c in text:
        run = run + 1 if c == "`" else 0
        longest = max(longest, run)
    return longest
