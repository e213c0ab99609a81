"""The repository explains itself and every reference it makes to itself resolves.

- No text file cites the design brief that lives outside the repository (by its file name or its
  section numbers): what a reader needs is in docs/architecture.md.
- A path of this repository cited in Markdown, in the Makefile, or in a Python docstring or comment
  exists. A placeholder or a glob (`functions/<name>/app.py`, `events/api/*.json`) must match at least
  one file; a path git ignores is generated output (`bench/.cache`) and passes.
- A Markdown link points to a file that exists and, with an anchor, to one of its headings.
- A module named in Markdown or the Makefile (`python -m infra.local.dev`, `payments.http.api`) is a
  module file of ours, or a name defined at the top of one; so is a `python -m` in a Python docstring or
  comment.
"""

from __future__ import annotations

import ast
import functools
import io
import re
import subprocess
import tokenize
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE_ROOT = ROOT / "layers" / "core" / "python"  # where `payments` lives

TEXT_SUFFIXES = frozenset({".py", ".md", ".toml", ".json", ".yaml", ".yml", ".cfg", ".sh"})
TEXT_NAMES = frozenset({"Makefile"})
TOP_FOLDERS = ("layers", "functions", "infra", "tools", "bench", "tests", "docs", "events")
TOP_FILES = (
    "Makefile",
    "README.md",
    "app.py",
    "cdk.json",
    "pyproject.toml",
    "openapi.json",
    "package.json",
    "package-lock.json",
    "uv.lock",
)
# Top-level packages of ours that a dotted reference may start with.
MODULE_ROOTS = ("infra", "payments", "tools", "bench")

# The brief's file name, or one of its sections as code comments used to cite them.
BRIEF = re.compile(r"\bDESIGN(?:\.md\b|\s+section\b)")

_PATH_CHARS = r"[\w.\-*<>{}/]"
# A path starts where no other path, word or URL does: `docs/deploy.md`, never `https://x/docs/y`.
_PATH_START = r"(?<![\w./\-<>{}*$@])"
PATH = re.compile(
    _PATH_START
    + r"("
    + r"(?:" + "|".join(TOP_FOLDERS) + r")/" + _PATH_CHARS + r"*"
    # Inside the core package; only with a file name or a subfolder, as `payments/stripe-api-key` is
    # a secret's name.
    + r"|payments/(?:[\w\-]+/)+" + _PATH_CHARS + r"*"
    + r"|payments/[\w\-]+\.py"
    + r"|(?:" + "|".join(re.escape(name) for name in TOP_FILES) + r")(?![\w\-/])"
    + r")"
)  # fmt: skip
# What stands for any name in a cited path: `<name>`, `{name}`, a glob, or an ellipsis.
WILDCARD = re.compile(r"<[^<>/]*>|\{[^{}/]*\}|\*\*|\*|\.\.\.")
LINK = re.compile(r"\[[^\]\n]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
HEADING = re.compile(r"^ {0,3}(#{1,6})\s+(.*?)\s*#*\s*$")
FENCE = re.compile(r"^ {0,3}(```|~~~)")
MODULE_RUN = re.compile(r"(?:\bpython[\d.]*|\$\(PY\)|\$\(PYTHON\))\s+-m\s+([A-Za-z_][\w.]*\w)")
DOTTED = re.compile(
    r"(?<![\w./\-@])((?:" + "|".join(MODULE_ROOTS) + r")(?:\.[A-Za-z_]\w*)+)(?![\w\-/(])"
)  # fmt: skip
# `bench.json`, `payments.py`: file names, not modules.
FILE_EXTENSIONS = frozenset({"py", "md", "json", "toml", "txt", "log", "yaml", "yml", "cfg", "sh", "lock"})


@dataclass(frozen=True)
class Citation:
    file: str
    line: int
    text: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.text}"


# --------------------------------------------------------------------------- files


@functools.cache
def repository_files() -> tuple[str, ...]:
    """Tracked files, and new ones not yet added (git's own ignore rules apply), that are on disk."""
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split("\0")
    return tuple(sorted({name for name in listed if name and (ROOT / name).is_file()}))


def text_files() -> list[str]:
    return [
        name
        for name in repository_files()
        if Path(name).suffix in TEXT_SUFFIXES or Path(name).name in TEXT_NAMES
    ]


def files_with(suffix: str) -> list[str]:
    return [name for name in repository_files() if name.endswith(suffix)]


@functools.cache
def read(name: str) -> str:
    return (ROOT / name).read_text(encoding="utf-8", errors="replace")


# --------------------------------------------------------------------------- where citations are


def python_prose(name: str) -> Iterator[tuple[int, str]]:
    """(first line, text) of each docstring and comment of a Python file."""
    yield from _python_prose(name)


@functools.cache
def _python_prose(name: str) -> tuple[tuple[int, str], ...]:
    return tuple(_docstrings_and_comments(read(name)))


def _docstrings_and_comments(source: str) -> Iterator[tuple[int, str]]:
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return  # a file being edited; the linters report it
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef) and node.body:
            first = node.body[0]
            if (
                isinstance(first, ast.Expr)
                and isinstance(first.value, ast.Constant)
                and isinstance(first.value.value, str)
            ):
                yield first.value.lineno, first.value.value
    try:
        for token in tokenize.generate_tokens(io.StringIO(source).readline):
            if token.type == tokenize.COMMENT:
                yield token.start[0], token.string
    except (tokenize.TokenError, SyntaxError):
        return


def lines_of(name: str) -> Iterator[tuple[int, str]]:
    yield from enumerate(read(name).splitlines(), start=1)


def prose(name: str) -> Iterator[tuple[int, str]]:
    """Where a file cites other files: all of a Markdown file or the Makefile, a Python file's docs."""
    if name.endswith(".py"):
        yield from python_prose(name)
    else:
        yield from lines_of(name)


def found_in(pattern: re.Pattern[str], chunks: Iterator[tuple[int, str]], name: str) -> Iterator[Citation]:
    for first_line, text in chunks:
        for match in pattern.finditer(text):
            line = first_line + text.count("\n", 0, match.start())
            yield Citation(name, line, match.group(1) if pattern.groups else match.group(0))


def path_citations(names: list[str]) -> list[Citation]:
    citations = []
    for name in names:
        for citation in found_in(PATH, prose(name), name):
            path = citation.text.rstrip(".,;:")
            if path:
                citations.append(Citation(citation.file, citation.line, path))
    return citations


# --------------------------------------------------------------------------- what resolves


@functools.cache
def known_paths() -> frozenset[str]:
    """Every file of the repository and every folder holding one, relative to the root."""
    paths = set(repository_files())
    paths.update(parent.as_posix() for name in repository_files() for parent in Path(name).parents)
    return frozenset(paths)


def wildcard_pattern(path: str) -> re.Pattern[str]:
    parts = []
    position = 0
    for match in WILDCARD.finditer(path):
        parts.append(re.escape(path[position : match.start()]))
        token = match.group(0)
        parts.append(r"[^/]*" if token == "*" else r".*" if token in ("**", "...") else r"[^/]+")
        position = match.end()
    parts.append(re.escape(path[position:]))
    return re.compile("".join(parts))


def path_exists(path: str) -> bool:
    target = path.rstrip("/")
    if target.startswith("payments/"):
        target = PACKAGE_ROOT.relative_to(ROOT).as_posix() + "/" + target
    if not WILDCARD.search(target):
        return (ROOT / target).exists()
    pattern = wildcard_pattern(target)
    return any(pattern.fullmatch(known) for known in known_paths())


def ignored_by_git(paths: set[str]) -> set[str]:
    """The paths git ignores (generated output such as bench/.cache or bench-results/)."""
    if not paths:
        return set()
    answer = subprocess.run(
        ["git", "check-ignore", "--no-index", "--stdin"],
        cwd=ROOT,
        input="\n".join(sorted(paths)) + "\n",
        capture_output=True,
        text=True,
        check=False,
    )
    return set(answer.stdout.split())


def missing_paths(citations: list[Citation]) -> list[Citation]:
    missing = [c for c in citations if not path_exists(c.text)]
    ignored = ignored_by_git({c.text.rstrip("/") for c in missing if not c.text.startswith("payments/")})
    return [c for c in missing if c.text.rstrip("/") not in ignored]


def github_slug(heading: str) -> str:
    """The anchor GitHub gives a heading: lower case, punctuation dropped, spaces as hyphens."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading).strip().lower()
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


@functools.cache
def anchors(name: str) -> frozenset[str]:
    seen: dict[str, int] = {}
    found = set()
    in_fence = False
    for _, line in lines_of(name):
        if FENCE.match(line):
            in_fence = not in_fence
            continue
        heading = None if in_fence else HEADING.match(line)
        if heading:
            slug = github_slug(heading.group(2))
            count = seen.get(slug, 0)
            seen[slug] = count + 1
            found.add(slug if count == 0 else f"{slug}-{count}")
    return frozenset(found)


def outside_fences(name: str) -> Iterator[tuple[int, str]]:
    in_fence = False
    for number, line in lines_of(name):
        if FENCE.match(line):
            in_fence = not in_fence
        elif not in_fence:
            yield number, line


def broken_links(name: str) -> list[Citation]:
    broken = []
    for citation in found_in(LINK, outside_fences(name), name):
        target = citation.text
        if re.match(r"[a-z][a-z0-9+.\-]*:", target):  # https:, mailto:
            continue
        path, _, anchor = target.partition("#")
        resolved = (ROOT / name).parent / path if path else ROOT / name
        try:
            relative = resolved.resolve().relative_to(ROOT).as_posix()
        except ValueError:
            broken.append(Citation(name, citation.line, f"{target} (outside the repository)"))
            continue
        if not resolved.exists():
            broken.append(Citation(name, citation.line, f"{target} (no {relative})"))
        elif anchor and relative.endswith(".md") and anchor.lower() not in anchors(relative):
            broken.append(Citation(name, citation.line, f"{target} (no heading #{anchor} in {relative})"))
    return broken


@functools.cache
def top_level_names(module: Path) -> frozenset[str]:
    try:
        tree = ast.parse(module.read_text(encoding="utf-8"))
    except (SyntaxError, UnicodeDecodeError):
        return frozenset()
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names.update(t.id for t in node.targets if isinstance(t, ast.Name))
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
        elif isinstance(node, ast.Import | ast.ImportFrom):
            names.update((alias.asname or alias.name).split(".")[0] for alias in node.names)
    return frozenset(names)


def module_resolves(dotted: str, *, runnable: bool = False) -> bool:
    """A module (or, not `runnable`, a name defined at the top of one); `runnable`: `python -m` can
    run it (a module file, or a package with __main__.py)."""
    parts = dotted.split(".")
    base = PACKAGE_ROOT if parts[0] == "payments" else ROOT
    for end in range(len(parts), 0, -1):
        folder = base.joinpath(*parts[:end])
        if folder.with_suffix(".py").is_file():
            module = folder.with_suffix(".py")
        elif (folder / "__init__.py").is_file():
            module = folder / "__init__.py"
        else:
            continue
        rest = parts[end:]
        if runnable:
            return not rest and (module.name != "__init__.py" or (folder / "__main__.py").is_file())
        return not rest or rest[0] in top_level_names(module)
    return False


def unresolved_runs(name: str, chunks: Iterator[tuple[int, str]]) -> tuple[set[Citation], list[Citation]]:
    """The `python -m X` of ours in `chunks`, and those of them that cannot run."""
    ours = (*MODULE_ROOTS, "tests")
    runs = {c for c in found_in(MODULE_RUN, chunks, name) if c.text.split(".")[0] in ours}
    failing = sorted((c for c in runs if not module_resolves(c.text, runnable=True)), key=lambda c: c.line)
    return runs, [Citation(name, c.line, f"python -m {c.text}") for c in failing]


def unresolved_modules(names: list[str]) -> list[Citation]:
    """Markdown and the Makefile: `python -m X` and dotted names; Python docs and comments: `python -m X`."""
    unresolved = []
    for name in names:
        if name.endswith(".py"):
            unresolved.extend(unresolved_runs(name, python_prose(name))[1])
            continue
        run, cannot_run = unresolved_runs(name, lines_of(name))
        unresolved.extend(cannot_run)
        for citation in found_in(DOTTED, lines_of(name), name):
            if citation in run or citation.text.rsplit(".", 1)[-1] in FILE_EXTENSIONS:
                continue
            if not module_resolves(citation.text):
                unresolved.append(citation)
    return unresolved


def report(problems: list[Citation], what: str) -> str:
    return f"{len(problems)} {what}:\n" + "\n".join(f"  {problem}" for problem in problems)


# --------------------------------------------------------------------------- the tests


def test_no_file_cites_the_design_brief_kept_outside_the_repository():
    citations = [citation for name in text_files() for citation in found_in(BRIEF, lines_of(name), name)]
    assert not citations, report(citations, "citations of the design brief (say the rule, or cite docs/)")


def test_cited_paths_exist():
    names = [*files_with(".md"), *files_with(".py"), *(n for n in repository_files() if n == "Makefile")]
    missing = missing_paths(path_citations(names))
    assert not missing, report(missing, "cited paths that do not exist")


def test_markdown_links_resolve():
    broken = [link for name in files_with(".md") for link in broken_links(name)]
    assert not broken, report(broken, "Markdown links that do not resolve")


def test_cited_modules_resolve():
    names = [*files_with(".md"), *(n for n in repository_files() if n == "Makefile"), *files_with(".py")]
    unresolved = unresolved_modules(names)
    assert not unresolved, report(unresolved, "cited modules that do not resolve")


def test_the_scanners_find_what_they_must_and_nothing_else():
    text = (
        "See `docs/deploy.md`, [x](docs/ledger.md) and functions/<name>/app.py; run `make` (Makefile), "
        "not https://example.com/docs/x or payments/stripe-api-key, but payments/http/auth.py. "
        "docs/nowhere.md:12 too."
    )
    assert [m.group(1).rstrip(".,;:") for m in PATH.finditer(text)] == [
        "docs/deploy.md",
        "docs/ledger.md",
        "functions/<name>/app.py",
        "Makefile",
        "payments/http/auth.py",
        "docs/nowhere.md",
    ]
    assert path_exists("functions/<name>/app.py")
    assert path_exists("events/api/*.json")
    assert path_exists("events/...json")
    assert not path_exists("events/api/*.yaml")
    assert path_exists("payments/config.py")
    assert not path_exists("docs/nowhere.md")
    assert BRIEF.search("as DESIGN" + ".md says")
    assert BRIEF.search("(DESIGN" + " section 3)")
    assert not BRIEF.search("the design brief")
    assert module_resolves("infra.catalog.FUNCTIONS")
    assert module_resolves("infra.local.dev", runnable=True)
    assert not module_resolves("infra.nowhere")
    assert not module_resolves("infra.catalog.NO_SUCH_NAME")
    assert [m.group(1) for m in MODULE_RUN.finditer("$(PY) -m infra.local.dev; python -m pytest")] == [
        "infra.local.dev",
        "pytest",
    ]
    assert [m.group(1) for m in DOTTED.finditer("`payments.http.api`, docs.payments.example/x")] == [
        "payments.http.api"
    ]
    assert github_slug("Money rules") == "money-rules"
    assert github_slug("`make invoke`") == "make-invoke"
    assert github_slug("Layers, and what may import what") == "layers-and-what-may-import-what"
