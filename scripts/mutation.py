"""Mutation testing of one module with mutmut 3, run by `scripts/mutation` (see docs/TESTING.md).

Each run works in `.mutation/<module>/` (git-ignored): links to the packages and tests, a
setup.cfg naming the one module to mutate and the tests to run, and mutmut's own `mutants/`
folder, made fresh every run so no result is stale. Mutants are run one at a time at low
priority: the machine is shared.

Output: caught / missed / score, then every missed mutant as `file:line` with the line before
and after. A missed mutant listed in docs/TESTING.md as equivalent is shown apart and left out
of the score; one that changes only a string literal (often a message's wording) is counted,
but marked `[string]`.
"""

from __future__ import annotations

import argparse
import ast
import io
import json
import os
import re
import shutil
import subprocess
import sys
import time
import tokenize
from dataclasses import dataclass
from pathlib import Path

MUTMUT = "mutmut==3.8.1"
ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("registry", "router", "agent", "ui", "migrations")
ALSO_COPY = ("config.yaml", "README.md", "docs")
EQUIVALENTS_DOC = ROOT / "docs" / "TESTING.md"

# The tests that cover each module, fast unit tests first. Only these run against its mutants
# (mutmut runs, for each mutant, just those of them that call the mutated function).
PROCESSES = "tests/test_registry_processes.py::"
WEB = "tests/test_web_api.py::"
INERT = "tests/resilience/test_terminal_inert.py::"
CLUSTER = "tests/test_cluster.py::"
MODULE_TESTS = {
    "router/chain.py": ["tests/test_router_chain.py", "tests/test_router_options.py"],
    "registry/model.py": ["tests/test_model.py", "tests/resilience/test_decode_property.py",
                          "tests/test_registry.py"],
    "agent/code/workspace.py": ["tests/test_workspace.py", "tests/test_code_tools.py"],
    "registry/connection/": [
        "tests/test_connection.py", "tests/test_embedded_server.py",
        "tests/test_cluster_config.py", "tests/resilience/test_durability.py",
        "tests/resilience/test_refusals.py::"
        "test_a_wrong_redis_password_is_reported_as_authentication",
        CLUSTER + "test_a_plain_url_at_a_cluster_node_is_named_in_the_refusal",
        CLUSTER + "test_cluster_mode_connects_with_the_same_timeout_and_quick_retry",
        CLUSTER + "test_cluster_mode_against_a_single_server_says_it_is_not_a_cluster",
        # the in-process ones of the process tests: a child process cannot run a mutant
        PROCESSES + "test_unreachable_server_is_a_clear_error_within_two_seconds",
        PROCESSES + "test_password_is_not_shown",
        PROCESSES + "test_server_gone_after_connect_is_a_registry_error",
    ],
    # security checks added by other issues (see docs/TESTING.md)
    "ui/security.py": [
        "tests/test_web_security.py",
        WEB + "test_foreign_host_is_refused",
        WEB + "test_cross_origin_and_non_json_changes_are_refused",
        WEB + "test_bodies_over_one_mebibyte_are_refused",
        WEB + "test_token_is_required_when_set",
    ],
    "cli/inert.py": [
        INERT + "test_inert_shows_each_edge_of_each_range",
        INERT + "test_inert_keeps_what_a_terminal_only_prints",
        INERT + "test_inert_json_escapes_what_json_dumps_leaves_raw",
        INERT + "test_inert_json_leaves_printable_text_alone",
        INERT + "test_inert_shows_controls_as_caret_text_and_keeps_newlines_and_tabs",
        INERT + "test_inert_is_idempotent_and_leaves_nothing_a_terminal_obeys",
        INERT + "test_inert_json_keeps_the_value_and_escapes_what_json_leaves_raw",
        INERT + "test_output_makes_every_path_inert_on_a_terminal_only",
    ],
    "registry/connection/failures.py": ["tests/test_cluster_config.py"],
}

# mutmut's exit codes (mutmut/stats.py): what a mutant's result means here.
CAUGHT = {1: "killed", 3: "killed", 36: "timeout", 24: "timeout", -24: "timeout",
          152: "timeout", 255: "timeout", 37: "type check", -11: "crashed", -9: "crashed"}
MISSED = {0: "survived", 5: "no tests", 33: "no tests"}
CAUGHT_PLAIN = {"killed", "timeout", "type check", "crashed"}


@dataclass
class Missed:
    name: str
    status: str
    line: int | None
    before: str
    after: str
    text_only: bool
    equivalent_because: str | None = None

    def show(self, module: str) -> str:
        where = f"{module}:{self.line}" if self.line else module
        mark = " [string]" if self.text_only else ""
        head = f"{where}{mark}  ({self.status}, {self.name.rpartition('.')[2]})"
        if self.equivalent_because:
            head += f"  equivalent: {self.equivalent_because}"
        return f"{head}\n    - {self.before}\n    + {self.after}"


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="scripts/mutation", description=__doc__.splitlines()[0])
    parser.add_argument("module", nargs="?", help="the one file to mutate, e.g. registry/model.py")
    parser.add_argument("tests", nargs="*", help="test files to run (default: the module's list)")
    parser.add_argument("--list", action="store_true", help="modules with a known test list")
    parser.add_argument("--jobs", type=int, default=1, help="mutants run at once (default 1)")
    parser.add_argument("--report", action="store_true",
                        help="report the last (or a running) run of the module; run nothing")
    args = parser.parse_args(argv)
    if args.list or not args.module:
        for module, tests in MODULE_TESTS.items():
            print(f"{module}: {' '.join(tests)}")
        return 0 if args.list else 2
    module = args.module
    if not (ROOT / module).is_file() or not module.endswith(".py"):
        print(f"No Python file {module!r} here. Give a path like registry/model.py.",
              file=sys.stderr)
        return 2
    tests = args.tests or MODULE_TESTS.get(module)
    if not tests:
        print(f"No test list for {module}: name the test files that cover it after the module.",
              file=sys.stderr)
        return 2
    missing = [t for t in tests if not (ROOT / t.partition("::")[0]).exists()]
    if missing:
        print(f"No such test file: {', '.join(missing)}.", file=sys.stderr)
        return 2
    ensure_mutmut()
    if args.report:
        work = ROOT / ".mutation" / slug(module)
        meta = work / "mutants" / (module + ".meta")
        if not meta.exists():
            print(f"No run of {module} to report; run it first.", file=sys.stderr)
            return 2
        return report(module, work, json.loads(meta.read_text())["exit_code_by_key"], None)
    work = prepare(module, tests)
    started = time.monotonic()
    print(f"Mutating {module}, running {' '.join(tests)} against each mutant "
          f"(log: {work.relative_to(ROOT)}/run.log) ...", flush=True)
    with open(work / "run.log", "w") as log:
        done = subprocess.run([str(Path(sys.executable).parent / "mutmut"), "run",
                               "--max-children", str(args.jobs)],
                              cwd=work, stdout=log, stderr=subprocess.STDOUT, check=False)
    meta = work / "mutants" / (module + ".meta")
    if not meta.exists():
        print(f"mutmut failed (exit {done.returncode}); see {work / 'run.log'}.", file=sys.stderr)
        return 1
    results = json.loads(meta.read_text())["exit_code_by_key"]
    if not any(code is not None for code in results.values()):
        print(f"mutmut ran no mutant (exit {done.returncode}): the tests probably fail on the "
              f"unmutated code; see {work / 'run.log'}.", file=sys.stderr)
        return 1
    return report(module, work, results, time.monotonic() - started)


def ensure_mutmut() -> None:
    try:
        from importlib.metadata import version

        if version("mutmut") == MUTMUT.split("==")[1]:
            return
    except Exception:  # noqa: BLE001 - not installed
        pass
    print(f"Installing {MUTMUT} into .venv ...", flush=True)
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet",
                    "--disable-pip-version-check", MUTMUT], check=True)


def slug(module: str) -> str:
    return module.replace("/", "_").removesuffix(".py")


def prepare(module: str, tests: list[str]) -> Path:
    work = ROOT / ".mutation" / slug(module)
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    for name in (*PACKAGES, "tests", "pyproject.toml", *ALSO_COPY):
        if (ROOT / name).exists():
            (work / name).symlink_to(ROOT / name)
    lines = [
        "[mutmut]",
        "source_paths=", *(f"    {p}" for p in PACKAGES if (ROOT / p).is_dir()),
        f"only_mutate={module}",
        "also_copy=", *(f"    {p}" for p in ALSO_COPY if (ROOT / p).exists()),
        "pytest_add_cli_args_test_selection=", *(f"    {t}" for t in tests),
        "pytest_add_cli_args=", "    -p", "    no:randomly", "    -p", "    no:cacheprovider",
        "use_git_change_detection=false",
        "track_dependencies=false",
    ]
    (work / "setup.cfg").write_text("\n".join(lines) + "\n")
    return work


def report(module: str, work: Path, results: dict, seconds: float | None) -> int:
    equivalents = known_equivalents(module)
    caught, missed = 0, []
    os.chdir(work)  # mutmut reads its config and mutants/ from here
    from mutmut.mutation.diff_apply import get_diff_for_mutant

    source = (ROOT / module).read_text()
    starts = function_starts(source)
    not_run = sum(code is None for code in results.values())
    for name, code in sorted(results.items(), key=lambda kv: mutant_order(kv[0])):
        if code is None:
            continue  # a run still going, or stopped: not counted either way
        if code in CAUGHT:
            caught += 1
            continue
        status = MISSED.get(code, f"exit {code}")
        diff = get_diff_for_mutant(name, path=module)
        line, before, after = changed_line(diff, starts.get(function_key(name)))
        entry = Missed(name, status, line, before, after, text_only(before, after))
        entry.equivalent_because = equivalents.get((before, after))
        missed.append(entry)
    real = [m for m in missed if not m.equivalent_because]
    equivalent = [m for m in missed if m.equivalent_because]
    total = caught + len(real)
    score = 100.0 * caught / total if total else 100.0
    text = sum(m.text_only for m in real)
    print()
    for entry in real:
        print(entry.show(module))
    if equivalent:
        print(f"\nEquivalent (listed in docs/TESTING.md), left out of the score:")
        for entry in equivalent:
            print(entry.show(module))
    partial = f", {not_run} not run yet (partial)" if not_run else ""
    took = f" ({int(seconds)} s)" if seconds is not None else ""
    print(f"\n{module}: {caught + len(missed) + not_run} mutants, {caught} caught, {len(real)} "
          f"missed ({text} of them only change a string literal), {len(equivalent)} equivalent"
          f"{partial}; score {score:.0f}%{took}")
    return 0


def known_equivalents(module: str) -> dict[tuple[str, str], str]:
    """`- `module` `before` → `after`: why` lines of docs/TESTING.md."""
    found = {}
    if not EQUIVALENTS_DOC.exists():
        return found
    pattern = re.compile(r"^- `([^`]+)` `(.+?)` → `(.*?)`: (.+)$")  # `` after: a deleted argument
    for line in EQUIVALENTS_DOC.read_text().splitlines():
        match = pattern.match(line.strip())
        if match and match.group(1) == module:
            found[(match.group(2), match.group(3))] = match.group(4)
    return found


def mutant_order(name: str):
    base, _, number = name.rpartition("__mutmut_")
    return base, int(number) if number.isdigit() else 0


def function_key(mutant_name: str) -> str:
    """`registry.model.xǁModelConfigǁfrom_hash__mutmut_3` -> `ModelConfig.from_hash`."""
    mangled = mutant_name.rpartition(".")[2].rpartition("__mutmut_")[0]
    if mangled.startswith("xǁ"):
        return ".".join(mangled[2:].split("ǁ"))
    return mangled[2:]  # "x_name" -> "name"


def function_starts(source: str) -> dict[str, int]:
    """First line (a decorator's, if any) of every function and method, by `Class.name`."""
    starts = {}

    def visit(node, prefix=""):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                first = min([child.lineno, *(d.lineno for d in child.decorator_list)])
                starts[prefix + child.name] = first
            elif isinstance(child, ast.ClassDef):
                visit(child, prefix + child.name + ".")

    visit(ast.parse(source))
    return starts


def changed_line(diff: str, start: int | None) -> tuple[int | None, str, str]:
    """The first changed line of a function diff: its line in the file, before and after."""
    before, after, line, old = [], [], None, 0
    for text in diff.splitlines():
        hunk = re.match(r"^@@ -(\d+)", text)
        if hunk:
            old = int(hunk.group(1))
            continue
        if text.startswith(("---", "+++")):
            continue
        if text.startswith("-"):
            if line is None and start is not None:
                line = start + old - 1
            before.append(text[1:].strip())
            old += 1
        elif text.startswith("+"):
            after.append(text[1:].strip())
        elif text.startswith(" "):
            old += 1
    return line, " ".join(before), " ".join(after)


def text_only(before: str, after: str) -> bool:
    """Whether the change is inside string literals only (often a message's wording), not in
    the {expressions} of an f-string."""
    def tokens(code):
        try:
            return [(t.type, t.string) for t in tokenize.generate_tokens(io.StringIO(code).readline)
                    if t.type not in (tokenize.NEWLINE, tokenize.NL, tokenize.ENDMARKER,
                                      tokenize.INDENT, tokenize.DEDENT)]
        except (tokenize.TokenError, IndentationError, SyntaxError):
            return None

    def fields(literal):  # the {expressions} of an f-string: code, not text
        return re.findall(r"\{[^{}]*\}", literal) if literal.lstrip("rbRB").startswith(("f", "F")) \
            else []

    a, b = tokens(before), tokens(after)
    if a is None or b is None or len(a) != len(b) or a == b:
        return False
    return all(x == y or (x[0] == y[0] == tokenize.STRING and fields(x[1]) == fields(y[1]))
               for x, y in zip(a, b))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
