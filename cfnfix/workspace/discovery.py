"""Finding the templates under the paths a user names: directories are walked (``.gitignore``
respected, tool and virtualenv folders skipped, symlinks out of the tree left alone) and a file
found there is a template when it looks like one."""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path
from typing import Iterator

TEMPLATE_SUFFIXES = (".yaml", ".yml", ".json", ".template")
SKIP_DIRS = {".git", ".hg", ".svn", "node_modules", ".venv", "venv", "__pycache__", ".tox", ".mypy_cache", ".pytest_cache", "cdk.out", ".aws-sam"}
# A line that starts (after blanks or a "{") with a Resources key. Only spaces, tabs and "{" may
# lead: a pattern that let the run of blanks before it span lines would be tried again from
# every line start of a long run of blank lines, which is quadratic.
_RESOURCES_LINE = re.compile(r'^[ \t{]*"?Resources"?[ \t]*:', re.M)


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


def discover(paths: list[Path], on_error=None, excluded=None) -> Iterator[tuple[Path, bool]]:
    """(path, explicit) for each file to look at. Explicit files are always processed;
    files found in directories only when they look like templates (see ``looks_like_template``)
    and when ``excluded(path, is_dir)`` (e.g. ``FileRules.excluded``) does not say otherwise.
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
                if excluded is not None and excluded(full, True):
                    continue
                keep.append(name)
            dirnames[:] = keep
            for name in sorted(filenames):
                if not name.lower().endswith(TEMPLATE_SUFFIXES):
                    continue
                full = d / name
                if not _regular_file(full):
                    continue  # a FIFO, a device, a link to nowhere or a link loop: not a template
                link = full.is_symlink()
                real = Path(os.path.realpath(full))
                if link and root not in real.parents:
                    continue  # a link out of the tree: not ours to rewrite
                if ignore.ignored(real if not link else full.absolute(), False):
                    continue
                if excluded is not None and excluded(full, False):
                    continue
                yield full, False


def _regular_file(path: Path) -> bool:
    """True when ``path`` (after links) is a regular file; False for anything else, including
    a dangling link and a link loop (which make ``Path.resolve`` raise)."""
    try:
        return stat.S_ISREG(os.stat(path).st_mode)
    except (OSError, ValueError):
        return False


def looks_like_template(text: str) -> bool:
    """Whether a file found in a directory looks like a CloudFormation template: it names
    AWSTemplateFormatVersion, or a line starts with a Resources key. Linear in the text's size."""
    return "AWSTemplateFormatVersion" in text or _RESOURCES_LINE.search(text) is not None


# ----- exclude / per-file-ignores (``[tool.cfnfix]`` and the command line) ------------------------
class Patterns:
    """gitignore-style patterns (``legacy/``, ``*.rain.yaml``, ``/top.yaml``, ``!keep.yaml``)
    relative to a base folder: the configuration file's folder, or the working directory for
    patterns given on the command line. A path outside the base is matched by its name."""

    def __init__(self, patterns: list[str], base: Path):
        import pathspec

        self.patterns = list(patterns)
        self.base = Path(os.path.abspath(base))
        self.spec = pathspec.GitIgnoreSpec.from_lines(self.patterns)

    def match(self, path: Path, is_dir: bool = False) -> bool:
        if not self.patterns:
            return False
        full = Path(os.path.abspath(path))
        try:
            rel = full.relative_to(self.base).as_posix()
        except ValueError:
            rel = full.name
        if rel in ("", "."):
            return False
        return self.spec.match_file(rel + ("/" if is_dir else ""))


class FileRules:
    """Which files to leave out (``exclude``, ``extend-exclude``) and which fixers to leave out per
    file (``per-file-ignores``), the way ruff has them. Files named on the command line are always
    processed unless ``force_exclude``; files found by walking a directory are skipped when excluded.
    """

    def __init__(self, exclude: list[Patterns] = (), per_file_ignores: list[tuple[Patterns, bool, list[str]]] = (),
                 force_exclude: bool = False):
        self.exclude = list(exclude)
        self.per_file = list(per_file_ignores)  # (pattern, negated, codes)
        self.force_exclude = force_exclude

    @classmethod
    def build(cls, exclude: list[tuple[str, Path]], per_file_ignores: list[tuple[str, Path, list[str]]],
              force_exclude: bool = False) -> "FileRules":
        """From (pattern, base) and (pattern, base, codes) lists; a per-file pattern starting with
        ``!`` applies to the files it does not match."""
        by_base: dict[Path, list[str]] = {}
        for pattern, base in exclude:
            by_base.setdefault(base, []).append(pattern)
        per_file = []
        for pattern, base, codes in per_file_ignores:
            negated = pattern.startswith("!")
            per_file.append((Patterns([pattern[1:] if negated else pattern], base), negated, list(codes)))
        return cls([Patterns(p, b) for b, p in by_base.items()], per_file, force_exclude)

    @classmethod
    def from_settings(cls, cfg, cwd: Path, exclude: list[str] = (), extend_exclude: list[str] = (),
                      force_exclude: bool | None = None, per_file: list[tuple[str, list[str]]] = ()) -> "FileRules":
        """The rules of a configuration (``cfg``: patterns relative to its file's folder) and of
        the command line (relative to ``cwd``): ``exclude`` given replaces the configured list,
        the rest adds to it."""
        patterns = [(p, cwd) for p in exclude] if exclude else [(p, cfg.root) for p in cfg.exclude]
        patterns += [(p, cfg.root) for p in cfg.extend_exclude] + [(p, cwd) for p in extend_exclude]
        ignores = [(p, cfg.root, codes) for p, codes in cfg.per_file_ignores.items()] + [(p, cwd, codes) for p, codes in per_file]
        return cls.build(patterns, ignores, cfg.force_exclude if force_exclude is None else force_exclude)

    def excluded(self, path: Path, is_dir: bool = False) -> bool:
        """Whether a path found by walking a directory is excluded."""
        return any(p.match(path, is_dir) for p in self.exclude)

    def excluded_under(self, root: Path):
        """The ``excluded`` check for walking ``root``, a folder named on the command line: when
        the folder is itself excluded it is still walked (named paths are always processed), and
        the patterns that exclude it do not exclude what is inside it; the other patterns do."""
        full = Path(os.path.abspath(root))

        def hits(p: Patterns) -> bool:
            return p.match(full, True) or any(p.match(d, True) for d in full.parents if p.base in d.parents)

        kept: list[Patterns] = []
        for group in self.exclude:
            if not hits(group):
                kept.append(group)
                continue
            for pattern in group.patterns:
                single = Patterns([pattern], group.base)
                if not pattern.startswith("!") and not hits(single):
                    kept.append(single)
        return lambda path, is_dir=False: any(p.match(path, is_dir) for p in kept)

    def excluded_explicit(self, path: Path) -> bool:
        """Whether a path named on the command line is excluded: only with ``force_exclude``, when
        it or a folder above it matches."""
        if not self.force_exclude or not self.exclude:
            return False
        full = Path(os.path.abspath(path))
        for p in self.exclude:
            if p.match(full, full.is_dir()):
                return True
            if any(p.match(d, True) for d in full.parents if p.base in d.parents):
                return True
        return False

    def ignores(self, path: Path) -> list[str]:
        """The fixer codes (or prefixes) ``per-file-ignores`` leaves out for ``path``."""
        out: list[str] = []
        for patterns, negated, codes in self.per_file:
            if patterns.match(path) != negated:
                out.extend(codes)
        return out
