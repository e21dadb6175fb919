"""The documentation's commands and links are real: what a newcomer copies from the README and docs/ must run.

Every fenced shell block (```bash, ```sh, ```shell, ```console) of README.md, CONTRIBUTING.md and docs/**/*.md is
read line by line. A line that invokes `vitrine` (or `.venv/bin/vitrine`) must name a subcommand path of the real
CLI parser (vitrine.cli.build_parser()) and only `--flags` that parser knows; `vitrine build` also accepts the flags
of `dbt build`, to which it passes them. A line that invokes `make` must name targets of the Makefile. Every relative
markdown link must point to an existing file (and, with a #fragment into a markdown file, to one of its headings),
and the README stays short enough to read.
"""

from __future__ import annotations

import argparse
import re
import shlex
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest

from vitrine.cli import build_parser
from vitrine.config import PROJECT_ROOT

README = PROJECT_ROOT / "README.md"
README_MAX_LINES = 250
SHELL_LANGUAGES = {"bash", "sh", "shell", "console"}


def _doc_files() -> list[Path]:
    files = [README, *sorted((PROJECT_ROOT / "docs").rglob("*.md"))]
    files += [p for p in (PROJECT_ROOT / "CONTRIBUTING.md", PROJECT_ROOT / "docs" / "CONTRIBUTING.md") if p.is_file()]
    return sorted(set(files))


DOC_FILES = _doc_files()


def _rel(path: Path) -> str:
    return path.relative_to(PROJECT_ROOT).as_posix()


@dataclass(frozen=True)
class Command:
    file: Path
    line: int
    text: str  # the logical line (continuations joined, prompt and comment removed)

    def __str__(self) -> str:
        return f"{_rel(self.file)}:{self.line}: {self.text}"


_FENCE = re.compile(r"^\s*(`{3,}|~{3,})\s*([\w+-]*)")


def _shell_lines(path: Path) -> list[Command]:
    """The logical lines of the file's fenced shell blocks."""
    commands: list[Command] = []
    fence: str | None = None
    shell = False
    pending, pending_line = "", 0
    for number, raw in enumerate(path.read_text().splitlines(), start=1):
        match = _FENCE.match(raw)
        if fence is None:
            if match:
                fence, shell = match.group(1), match.group(2).lower() in SHELL_LANGUAGES
            continue
        if match and raw.strip().startswith(fence) and not match.group(2):
            fence, shell, pending = None, False, ""
            continue
        if not shell:
            continue
        line = raw.rstrip()
        if not pending:
            pending_line = number
            line = re.sub(r"^\s*[$>]\s+", "", line)  # a console prompt
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        text = _strip_comment(pending + line).strip()
        pending = ""
        if text:
            commands.append(Command(path, pending_line, text))
    return commands


def _strip_comment(line: str) -> str:
    """The line without a trailing `# comment` (a # inside quotes stays)."""
    quote = None
    for i, char in enumerate(line):
        if quote:
            if char == quote:
                quote = None
        elif char in "'\"":
            quote = char
        elif char == "#" and (i == 0 or line[i - 1].isspace()):
            return line[:i]
    return line


def _tokens(text: str) -> list[str]:
    try:
        tokens = shlex.split(text)
    except ValueError:  # an unbalanced quote in a placeholder: fall back to plain words
        tokens = text.split()
    # optional parts are written [--flag VALUE]: the brackets are not part of the words
    return [t.strip("[]") for t in tokens if t.strip("[]")]


def _segments(tokens: list[str]) -> list[list[str]]:
    """The simple commands of a line: split on ;, &&, ||, | and &."""
    segments, current = [], []
    for token in tokens:
        if token in {";", "&&", "||", "|", "&"}:
            segments.append(current)
            current = []
        else:
            current.append(token)
    segments.append(current)
    return [s for s in segments if s]


def _is_vitrine(token: str) -> bool:
    return token == "vitrine" or token.endswith("/vitrine")


def _invocations(commands: list[Command], program: str) -> list[tuple[Command, list[str]]]:
    """(command, the words after the program) for each simple command that runs `program`."""
    found = []
    for command in commands:
        for segment in _segments(_tokens(command.text)):
            for i, token in enumerate(segment):
                if (program == "vitrine" and _is_vitrine(token)) or (program == "make" and token == "make"):
                    # only in command position: after environment assignments (VAR=value), not as an argument
                    if all(re.match(r"^\w+=", t) for t in segment[:i]):
                        found.append((command, segment[i + 1:]))
                    break
    return found


ALL_COMMANDS = [c for path in DOC_FILES for c in _shell_lines(path)]
VITRINE_CALLS = _invocations(ALL_COMMANDS, "vitrine")
MAKE_CALLS = _invocations(ALL_COMMANDS, "make")


def _subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def _options(parser: argparse.ArgumentParser) -> set[str]:
    return {option for action in parser._actions for option in action.option_strings}


@cache
def _dbt_build_options() -> frozenset[str]:
    from dbt.cli.main import cli

    command = cli.commands["build"]
    return frozenset(o for p in command.params for o in [*p.opts, *p.secondary_opts])


def _check_vitrine(words: list[str]) -> list[str]:
    """What is wrong with `vitrine <words>`: an unknown subcommand or flag."""
    parser = build_parser()
    path: list[str] = []
    rest = list(words)
    while True:
        choices = _subparsers(parser)
        if not choices:
            break
        if not rest or rest[0].startswith("-"):
            if rest and rest[0] in {"-h", "--help"}:
                return []
            return [f"`vitrine {' '.join(path)}` needs a subcommand ({', '.join(sorted(choices))})"]
        name = rest.pop(0)
        if name not in choices:
            return [f"unknown subcommand `vitrine {' '.join([*path, name])}` (known: {', '.join(sorted(choices))})"]
        path.append(name)
        parser = choices[name]
    known = _options(parser)
    if path == ["build"]:  # vitrine build passes the other arguments to dbt build
        known |= _dbt_build_options()
    problems = []
    for word in rest:
        if word.startswith("--"):
            flag = word.split("=", 1)[0]
            if flag not in known:
                problems.append(f"`vitrine {' '.join(path)}` has no option {flag}")
    return problems


@cache
def _make_targets() -> frozenset[str]:
    text = (PROJECT_ROOT / "Makefile").read_text()
    targets = set()
    for match in re.finditer(r"^([A-Za-z0-9_.$()/ -]+?)\s*:(?!=)", text, re.M):
        targets.update(t for t in match.group(1).split() if not t.startswith("."))
    return frozenset(targets)


def _make_goals(words: list[str]) -> list[str]:
    goals, skip = [], False
    for word in words:
        if skip:
            skip = False
        elif word in {"-C", "-f", "-j", "-o", "-W"}:
            skip = True
        elif not word.startswith("-") and not re.match(r"^\w+=", word):
            goals.append(word)
    return goals


def test_the_docs_hold_commands_to_check() -> None:
    assert README in DOC_FILES
    assert VITRINE_CALLS, "no vitrine command found in the docs' shell blocks"
    assert MAKE_CALLS, "no make command found in the docs' shell blocks"


@pytest.mark.parametrize(("command", "words"), VITRINE_CALLS, ids=[str(c) for c, _ in VITRINE_CALLS])
def test_vitrine_commands_exist_with_their_flags(command: Command, words: list[str]) -> None:
    problems = _check_vitrine(words)
    assert not problems, f"{command}\n  " + "\n  ".join(problems)


@pytest.mark.parametrize(("command", "words"), MAKE_CALLS, ids=[str(c) for c, _ in MAKE_CALLS])
def test_make_targets_exist(command: Command, words: list[str]) -> None:
    missing = [goal for goal in _make_goals(words) if goal not in _make_targets()]
    assert not missing, f"{command}\n  no Makefile target {', '.join(missing)}"


# [text](target) and [text](target "title"); not images' data URIs, not autolinks
_LINK = re.compile(r"(?<!\\)\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")


def _without_fences(text: str) -> str:
    return re.sub(r"^\s*(`{3,}|~{3,}).*?^\s*\1\s*$", "", text, flags=re.M | re.S)


def _without_code(text: str) -> str:
    """The markdown without fenced blocks and inline code, where brackets are not links."""
    return re.sub(r"`[^`\n]*`", "", _without_fences(text))


def _slug(heading: str) -> str:
    """GitHub's anchor of a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"`|\*\*|__", "", heading.strip().lower())
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def _anchors(path: Path) -> set[str]:
    anchors: set[str] = set()
    for line in _without_fences(path.read_text()).splitlines():
        match = re.match(r"^#{1,6}\s+(.*?)\s*#*\s*$", line)
        if match:
            slug = _slug(match.group(1))
            n = 1
            unique = slug
            while unique in anchors:
                unique = f"{slug}-{n}"
                n += 1
            anchors.add(unique)
    return anchors


def _links(path: Path) -> list[str]:
    return _LINK.findall(_without_code(path.read_text()))


LINKS = [(path, target) for path in DOC_FILES for target in _links(path)
         if not re.match(r"^[a-z][a-z0-9+.-]*:", target, re.I)]


@pytest.mark.parametrize(("path", "target"), LINKS, ids=[f"{_rel(p)}->{t}" for p, t in LINKS])
def test_relative_links_point_to_existing_files(path: Path, target: str) -> None:
    file_part, _, fragment = target.partition("#")
    linked = (path.parent / file_part).resolve() if file_part else path
    assert linked.exists(), f"{_rel(path)}: the link {target} points to nothing"
    if fragment and linked.suffix == ".md":
        assert fragment in _anchors(linked), (
            f"{_rel(path)}: the link {target} names no heading of {linked.name} "
            f"(anchors: {', '.join(sorted(_anchors(linked)))})"
        )


def test_readme_is_short() -> None:
    lines = len(README.read_text().splitlines())
    assert lines <= README_MAX_LINES, f"README.md has {lines} lines: move details into docs/ ({README_MAX_LINES} max)"
