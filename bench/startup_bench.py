"""Start-up and first-token figures, each beside what it is compared with (medians;
bench/README.md).

    .venv/bin/python bench/startup_bench.py [--runs 5] [--root PATH ...] [--llm-venv PATH]

1. `ai-cli model list --json` on the embedded default, fork to exit: with no server running (the
   process starts and stops it: `embedded_linger` 0), in a script's loop (the server lingers after
   each call, the default), and while an ai-cli REPL holds the server. Compared with the
   floor: python + redis-py reading the same keys from the running server.
2. The REPL: Enter to the answer's first word on the screen (a pseudo-terminal), for the first
   message (sent 3 s after the prompt shows, as after typing) and for the later ones. Compared
   with the `ollama` client's time to the first chunk.
3. `ai-cli chat hello`, whole process (stdout a pipe). Compared with `llm -m llama3.1:8b hello`
   (simonw's llm + llm-ollama, installed into a venv in the bench's temp dir unless --llm-venv
   names one; the column is skipped when that install fails) and a 5-line `ollama` client script.

Everything runs on loopback: the Ollama-protocol test server of tests/ollama_server.py answers at
once. Each `--root` is an ai-cli source tree run with this venv (default: this checkout); give an
older checkout first to measure before and after back to back: the runs of the roots alternate,
so a change in the machine's load hits both alike. The load average is printed at start and end.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from ollama_server import OllamaTestServer, refused_url  # noqa: E402

MODEL = "llama3.1:8b"
PACKAGES = ("cli", "agent", "registry", "router", "migrations", "ui")  # those a tree has
ANSWER = "Zebras graze quietly near the river today."  # its first word is looked for on screen
FIRST_WORD = "Zebras"
PROMPT = r">(\x08)?(\x1b\[\d*C| )"
TYPING = 3.0  # seconds between the prompt and the first message

FLOOR_SCRIPT = """
import json, sys, redis
r = redis.Redis(unix_socket_path=sys.argv[1], decode_responses=True)
p = r.pipeline(transaction=False)
for t in ("general", "coder"):
    p.smembers(f"models:index:{t}")
ids = sorted({i for s in p.execute() for i in s})
p = r.pipeline(transaction=False)
for i in ids:
    p.hgetall(f"models:{i}")
print(json.dumps(p.execute()))
"""

OLLAMA_SCRIPT = """
import os, sys, ollama
client = ollama.Client(host=os.environ["OLLAMA_HOST"])
for part in client.chat(model=sys.argv[1], messages=[{"role": "user", "content": "hello"}], stream=True):
    sys.stdout.write(part.message.content)
print()
"""


class Tree:
    """One ai-cli source tree with its own data dir and config."""

    def __init__(self, root: Path, folder: Path, server_url: str):
        self.root = root
        self.folder = folder
        folder.mkdir(parents=True)
        config = {
            "tinyollama": {"url": refused_url(), "model": "tinyllama", "timeout": 5},
            "redis": {"url": "embedded"},
            "defaults": {"timeout": 30, "probe_timeout": 1, "availability_ttl": 30},
        }
        (folder / "config.yaml").write_text(yaml.safe_dump(config))
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("AI_CLI_")}
        self.env.update(AI_CLI_CONFIG=str(folder / "config.yaml"), XDG_DATA_HOME=str(folder / "data"),
                        NO_COLOR="1", TERM="xterm", PROMPT_TOOLKIT_NO_CPR="1",
                        PYTHONPATH=str(root))
        # The environment may forbid writing .pyc files (PYTHONDONTWRITEBYTECODE): compile the
        # tree now, as pip does for an installed package, or every run would compile it anew.
        subprocess.run([sys.executable, "-m", "compileall", "-q",
                        *[p for p in PACKAGES if (root / p).is_dir()]],
                       cwd=root, check=True, stdout=subprocess.DEVNULL)
        self.run("model", "general", "add", server_url, MODEL)

    @property
    def label(self) -> str:
        return self.root.name

    @property
    def socket(self) -> Path:
        return self.folder / "data" / "ai-cli" / "redis.sock"

    def command(self, *args: str) -> list[str]:
        return [sys.executable, "-m", self.entry, *args]

    @property
    def entry(self) -> str:
        """What the tree's `ai-cli` script runs: the `__main__` of cli/ or agent/ (the package
        moved), or cli/main.py in trees older than the collector's pause."""
        for package in ("cli", "agent"):
            if (self.root / package / "__main__.py").exists():
                return package
        return "cli.main"

    def run(self, *args: str, linger: float | None = 0) -> subprocess.CompletedProcess:
        """`ai-cli ARGS`; `linger` None: the default embedded_linger, else these seconds."""
        env = self.env if linger is None else {**self.env, "AI_CLI_EMBEDDED_LINGER": str(linger)}
        done = subprocess.run(self.command(*args), env=env, cwd=self.root,
                              capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
        return done

    def spawn_repl(self):
        import pexpect

        child = pexpect.spawn(sys.executable, ["-m", self.entry], env=self.env,
                              cwd=str(self.root), encoding="utf-8", timeout=60, dimensions=(50, 200))
        child.delaybeforesend = None  # pexpect sleeps 50 ms before each send by default
        return child

    def wait_until_stopped(self) -> None:
        """Until no embedded server of this tree runs (one lingering after its last client)."""
        deadline = time.monotonic() + 30
        while self.socket.exists() and time.monotonic() < deadline:
            time.sleep(0.05)


class Wall(float):
    """A wall time in seconds that also carries the CPU time its child process used."""

    cpu: float | None = None


def timed(fn) -> Wall:
    """Wall time of `fn` (which runs one child process), with that child's CPU time: on a loaded
    machine the CPU time is the steadier figure."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    fn()
    sample = Wall(time.perf_counter() - started)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    sample.cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return sample


def ms(samples: list[float]) -> str:
    return f"{statistics.median(samples) * 1000:7.0f} ms" if samples else "    n/a"


def row(label: str, samples: list[float], floor: list[float] | None = None) -> None:
    ratio = ""
    if floor:
        ratio = f"  {statistics.median(samples) / statistics.median(floor):5.2f}x"
    spread = f"(min {min(samples) * 1000:.0f}, max {max(samples) * 1000:.0f}, n={len(samples)})"
    cpus = [s.cpu for s in samples if getattr(s, "cpu", None) is not None]
    cpu = f"   cpu {statistics.median(cpus) * 1000:.0f} ms" if cpus else ""
    floor_cpus = [s.cpu for s in floor or [] if getattr(s, "cpu", None) is not None]
    if cpus and floor_cpus:
        cpu += f" ({statistics.median(cpus) / statistics.median(floor_cpus):.2f}x)"
    print(f"  {label:<58} {ms(samples)}{ratio}   {spread}{cpu}", flush=True)


# --- 1. model list ---------------------------------------------------------------------------


def bench_model_list(trees: list[Tree], runs: int, instructions: bool = False) -> None:
    print("\n1. model list --json on the embedded default (fork to exit)")
    counts: dict[str, int] = {}
    alone = {t.label: [] for t in trees}
    for _ in range(runs):
        for tree in trees:
            tree.wait_until_stopped()
            alone[tree.label].append(timed(lambda: tree.run("model", "list", "--json")))
    looped = {t.label: [] for t in trees}
    for tree in trees:
        tree.run("model", "list", "--json", linger=None)  # the loop's first call starts it
    for _ in range(runs):
        for tree in trees:
            looped[tree.label].append(
                timed(lambda: tree.run("model", "list", "--json", linger=None)))
    for tree in trees:
        tree.run("model", "list", "--json", linger=0)  # the last call stops it: no linger left
        tree.wait_until_stopped()
    held = {t.label: [] for t in trees}
    floor = []
    # Every tree's REPL at once, so the runs of the trees alternate as in the other figures.
    repls = {tree.label: tree.spawn_repl() for tree in trees}
    for repl in repls.values():
        repl.expect(PROMPT)
    for _ in range(runs):
        for tree in trees:
            held[tree.label].append(timed(lambda: tree.run("model", "list", "--json")))
            floor.append(timed(lambda: subprocess.run(
                [sys.executable, "-c", FLOOR_SCRIPT, str(tree.socket)], check=True,
                capture_output=True)))
    for tree in trees:
        repl = repls[tree.label]
        if instructions:
            counts[tree.label] = instruction_count(tree.command("model", "list", "--json"),
                                                   tree.env, tree.root)
            counts.setdefault("floor", instruction_count(
                [sys.executable, "-c", FLOOR_SCRIPT, str(tree.socket)], tree.env, tree.root))
        repl.sendline("/quit")
        repl.expect(__import__("pexpect").EOF)
    row("floor: python + redis-py reading the same keys", floor)
    for tree in trees:
        row(f"[{tree.label}] no server running (linger 0)", alone[tree.label], floor)
        row(f"[{tree.label}] a script's loop (the server lingers)", looped[tree.label], floor)
        row(f"[{tree.label}] while an ai-cli REPL holds the server", held[tree.label], floor)
    if counts:
        print("  instructions executed (valgrind; load does not change them), a REPL holding it:")
        instruction_row("floor", counts["floor"])
        for tree in trees:
            instruction_row(f"[{tree.label}] model list --json", counts[tree.label], counts["floor"])


def instruction_row(label: str, count: int, base: int | None = None) -> None:
    ratio = f"  {count / base:5.2f}x" if base else ""
    print(f"  {label:<58} {count / 1e6:7.0f} M{ratio}", flush=True)


def instruction_count(command: list[str], env: dict, cwd: Path) -> int:
    """Instructions the process executes, counted by valgrind's callgrind: the one figure of
    this bench that a loaded machine does not change (the process runs far slower under it)."""
    done = subprocess.run(["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null",
                           *command], env=env, cwd=cwd, capture_output=True, text=True,
                          check=True)
    found = re.search(r"Collected : (\d+)", done.stderr)
    assert found, done.stderr[-500:]
    return int(found.group(1))


# --- 2. the REPL's first token ---------------------------------------------------------------


def repl_first_tokens(tree: Tree, later: int, typing: float) -> tuple[float, list[float]]:
    """(first message, [later messages]): Enter to the answer's first word in the terminal."""
    import pexpect

    child = tree.spawn_repl()
    child.expect(PROMPT)
    time.sleep(typing)
    times = []
    for i in range(1 + later):
        # Typed first and echoed, then Enter timed alone: a person pays prompt_toolkit's work
        # for each key while typing, not at Enter (bench/README.md).
        child.send(f"question {i}")
        child.expect(f"question {i}")
        started = time.perf_counter()
        child.send("\r")
        child.expect(FIRST_WORD)
        times.append(time.perf_counter() - started)
        child.expect(PROMPT)
    child.sendline("/quit")
    child.expect(pexpect.EOF)
    return times[0], times[1:]


def ollama_first_chunk(url: str, runs: int) -> list[float]:
    import ollama

    client = ollama.Client(host=url, timeout=30)
    samples = []
    for _ in range(runs + 1):
        started = time.perf_counter()
        stream = client.chat(model=MODEL, messages=[{"role": "user", "content": "hi"}], stream=True)
        next(iter(stream))
        samples.append(time.perf_counter() - started)
        for _ in stream:
            pass
    return samples[1:]  # the first pays for the connection


def bench_repl(trees: list[Tree], runs: int, url: str, typing: float) -> None:
    print(f"\n2. REPL: Enter to the first word of the answer on screen (first message {typing:.0f} s "
          "after the prompt)")
    first = {t.label: [] for t in trees}
    later = {t.label: [] for t in trees}
    for _ in range(runs):
        for tree in trees:
            one, rest = repl_first_tokens(tree, 3, typing)
            first[tree.label].append(one)
            later[tree.label].extend(rest)
    direct = ollama_first_chunk(url, runs)
    row("ollama client: request to first chunk", direct)
    for tree in trees:
        row(f"[{tree.label}] first message", first[tree.label], later[tree.label])
        row(f"[{tree.label}] later messages", later[tree.label])
        print(f"  [{tree.label}] first minus later: "
              f"{(statistics.median(first[tree.label]) - statistics.median(later[tree.label])) * 1000:.0f} ms")


# --- 3. one-shot chat ------------------------------------------------------------------------


def install_llm(folder: Path) -> Path | None:
    venv = folder / "llm-venv"
    try:
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, capture_output=True)
        subprocess.run([str(venv / "bin" / "pip"), "install", "-q", "llm", "llm-ollama"],
                       check=True, capture_output=True, timeout=600)
    except (subprocess.SubprocessError, OSError) as exc:
        print(f"  (llm not installed: {exc}; its column is skipped)")
        return None
    return venv


def bench_chat(trees: list[Tree], runs: int, url: str, llm_venv: Path | None, folder: Path,
               instructions: bool = False) -> None:
    print("\n3. one-shot chat, whole process (stdout a pipe)")
    host = url.split("://", 1)[1]
    other_env = {**os.environ, "OLLAMA_HOST": host, "LLM_USER_PATH": str(folder / "llm-home")}
    llm_cmd = None
    if llm_venv is not None and (llm_venv / "bin" / "llm").exists():
        # llm-ollama names the model `llama3.1:8b` in older releases, `ollama/llama3.1:8b` in newer
        for name in (MODEL, f"ollama/{MODEL}"):
            llm_cmd = [str(llm_venv / "bin" / "llm"), "-m", name, "hello"]
            probe = subprocess.run(llm_cmd, env=other_env, capture_output=True, text=True)
            if probe.returncode == 0 and FIRST_WORD in probe.stdout:
                break
        else:
            print(f"  (llm did not answer: {probe.stderr.strip()[-200:]}; its column is skipped)")
            llm_cmd = None
    samples = {t.label: [] for t in trees}
    llm_times, script_times = [], []
    for tree in trees:  # a first run of each compiles its .pyc files
        tree.run("chat", "hello")
    for _ in range(runs):
        for tree in trees:
            tree.wait_until_stopped()
            samples[tree.label].append(timed(lambda: tree.run("chat", "hello")))
        if llm_cmd:
            llm_times.append(timed(lambda: subprocess.run(llm_cmd, env=other_env, check=True,
                                                          capture_output=True)))
        script_times.append(timed(lambda: subprocess.run(
            [sys.executable, "-c", OLLAMA_SCRIPT, MODEL], env=other_env, check=True,
            capture_output=True)))
    if llm_cmd:
        row(f"{' '.join(['llm', *llm_cmd[1:]])} (llm + llm-ollama)", llm_times)
    row("a 5-line ollama client script", script_times)
    for tree in trees:
        row(f"[{tree.label}] ai-cli chat hello (vs llm)" if llm_cmd else
            f"[{tree.label}] ai-cli chat hello (vs the script)",
            samples[tree.label], llm_times or script_times)
    if not instructions:
        return
    print("  instructions executed (valgrind; load does not change them):")
    base = instruction_count(llm_cmd, other_env, folder) if llm_cmd else None
    if base:
        instruction_row("llm", base)
    for tree in trees:
        tree.wait_until_stopped()
        instruction_row(f"[{tree.label}] ai-cli chat hello",
                        instruction_count(tree.command("chat", "hello"), tree.env, tree.root), base)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--root", action="append", type=Path,
                        help="an ai-cli source tree (repeatable; default: this checkout)")
    parser.add_argument("--llm-venv", type=Path, help="a venv with llm and llm-ollama installed")
    parser.add_argument("--typing", type=float, default=TYPING,
                        help="seconds between the REPL's prompt and the first message")
    parser.add_argument("--only", choices=("list", "repl", "chat"), action="append")
    parser.add_argument("--instructions", action="store_true",
                        help="also count the instructions of model list and chat with valgrind "
                             "(if installed)")
    options = parser.parse_args()
    roots = [r.resolve() for r in (options.root or [ROOT])]
    if len({r.name for r in roots}) < len(roots):  # the figures are keyed by the folder's name
        parser.error("give each --root a folder of its own name (e.g. /tmp/before/main272)")
    only = set(options.only or ("list", "repl", "chat"))
    instructions = options.instructions and shutil.which("valgrind") is not None
    print(f"load average at start: {' '.join(f'{x:.2f}' for x in os.getloadavg())}  "
          f"({os.cpu_count()} CPUs)")
    with OllamaTestServer() as server, tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        server.add_model(MODEL)
        server.add_model("tinyllama")
        server.default_reply = ANSWER
        trees = [Tree(root, folder / f"tree{i}", server.url) for i, root in enumerate(roots)]
        for tree in trees:  # compile .pyc files and start nothing else
            tree.run("model", "list", "--json")
        if "list" in only:
            bench_model_list(trees, options.runs, instructions)
        if "repl" in only:
            bench_repl(trees, options.runs, server.url, options.typing)
        if "chat" in only:
            llm_venv = options.llm_venv or install_llm(folder)
            bench_chat(trees, options.runs, server.url, llm_venv, folder, instructions)
        for tree in trees:
            tree.wait_until_stopped()
    print(f"\nload average at end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
