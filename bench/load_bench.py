"""Load: 8 processes doing registry operations on one Redis at once, then every invariant checked.

A mix of library workers (ModelRegistry calls in a loop) and CLI workers (each operation a fresh
`ai-cli model ...` process). Reports operations per second and p50/p99 latency per kind, and the
invariant check (tests/invariants.py, key by key). tests/resilience/test_load.py runs this same
runner with a smaller count and asserts only correctness.

Run by hand:  .venv/bin/python bench/load_bench.py [--ops 5000] [--processes 8] [--cli 2]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

DEAD_URL = "http://127.0.0.1:9"  # refused at once: add --force never waits on a probe
CLI_SHARE = 0.01  # CLI workers do this share of the operations (each one is a whole process)


# --- workers (run in their own processes) ------------------------------------------------------


def library_worker(url: str, prefix: str, count: int, seed: int) -> list[tuple[str, float]]:
    import redis

    from registry.errors import UnknownModel
    from registry.manager import ModelRegistry

    registry = ModelRegistry(redis.Redis.from_url(url, decode_responses=True), key_prefix=prefix)
    rng = random.Random(seed)
    timings = []
    for _ in range(count):
        model_type = rng.choice(("general", "coder"))
        op = rng.choice(("add", "add", "use", "remove", "list"))
        started = time.perf_counter()
        try:
            if op == "list":
                ids = [m.model_id for m in registry.list_models(model_type)]
            else:
                ids = [m.model_id for m in registry.list_models(model_type)] if op != "add" else []
                if op == "add" or not ids:
                    op = "add"
                    registry.add_model(model_type, DEAD_URL, f"m{rng.randrange(99)}",
                                       set_active=rng.random() < 0.7)
                elif op == "use":
                    registry.set_active_model(rng.choice(ids), model_type=model_type)
                else:
                    registry.remove_model(rng.choice(ids), model_type=model_type)
        except UnknownModel:
            pass  # another process removed it between our list and our change: expected
        timings.append((f"lib {op}", time.perf_counter() - started))
    return timings


def cli_worker(env: dict, count: int, seed: int) -> list[tuple[str, float]]:
    rng = random.Random(seed)
    program = [sys.executable, "-m", "cli"]  # what the ai-cli script runs
    timings, ids = [], {"general": [], "coder": []}
    for _ in range(count):
        model_type = rng.choice(("general", "coder"))
        op = rng.choice(("add", "list", "use", "remove"))
        if op in ("use", "remove") and not ids[model_type]:
            op = "list"
        if op == "add":
            args = ["model", model_type, "add", DEAD_URL, f"c{rng.randrange(99)}", "--force"]
            if rng.random() < 0.3:
                args.append("--no-activate")
        elif op == "list":
            args = ["model", model_type, "list"]
        else:
            args = ["model", model_type, op, ids[model_type].pop(rng.randrange(len(ids[model_type])))]
        started = time.perf_counter()
        done = subprocess.run([*program, *args, "--json"], env=env, capture_output=True,
                              text=True, timeout=120)
        timings.append((f"cli {op}", time.perf_counter() - started))
        if done.returncode not in (0, 1) or "Unexpected error" in done.stdout + done.stderr:
            raise SystemExit(f"ai-cli {' '.join(args)} failed: {done.returncode} {done.stderr}")
        if op == "list" and done.returncode == 0:
            ids[model_type] = [m["model_id"] for m in json.loads(done.stdout)]
    return timings


# --- the runner ---------------------------------------------------------------------------------


def cli_env(url: str, prefix: str, home: Path) -> dict:
    config = home / "config.yaml"
    config.write_text(
        f"redis: {{url: '{url}', key_prefix: '{prefix}'}}\n"
        f"tinyollama: {{url: '{DEAD_URL}', model: tinyllama, timeout: 5}}\n"
        "defaults: {probe_timeout: 1}\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("AI_CLI_")}
    env.update({"AI_CLI_CONFIG": str(config), "AI_CLI_SKIP_MODEL_MIGRATION": "true",
                "NO_COLOR": "1", "PYTHONPATH": str(ROOT), "XDG_DATA_HOME": str(home / "data")})
    return env


def run_load(url: str, prefix: str, ops: int, processes: int, cli: int) -> dict:
    """Start the workers at once, wait for all, check the invariants. Returns the report."""
    cli = min(cli, processes)
    cli_ops = max(cli, round(ops * CLI_SHARE)) if cli else 0
    lib_ops = ops - cli_ops
    counts = _split(cli_ops, cli) + _split(lib_ops, processes - cli)
    with tempfile.TemporaryDirectory() as home:
        env = cli_env(url, prefix, Path(home))
        started = time.perf_counter()
        workers = [
            subprocess.Popen([sys.executable, __file__, "--worker", "cli" if i < cli else "lib",
                              "--url", url, "--prefix", prefix, "--count", str(count),
                              "--seed", str(i)],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             env={**env, "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "tests")])})
            for i, count in enumerate(counts)
        ]
        timings, errors = [], []
        for worker in workers:
            out, err = worker.communicate(timeout=3600)
            if worker.returncode != 0:
                errors.append(err.strip()[-500:])
            else:
                timings += [tuple(t) for t in json.loads(out)]
        wall = time.perf_counter() - started
    import redis

    from invariants import registry_problems

    client = redis.Redis.from_url(url, decode_responses=True)
    return {"operations": len(timings), "processes": len(counts), "cli_processes": cli,
            "wall_s": wall, "ops_per_s": len(timings) / wall, "latency": _latency(timings),
            "problems": registry_problems(client, prefix), "errors": errors}


def _split(total: int, parts: int) -> list[int]:
    return [total // parts + (1 if i < total % parts else 0) for i in range(parts)] if parts else []


def _latency(timings: list[tuple[str, float]]) -> dict:
    kinds = {"all": [t for _, t in timings], "lib": [], "cli": []}
    for kind, seconds in timings:
        kinds[kind.split()[0]].append(seconds)
    return {k: {"count": len(v), "p50_ms": _pct(v, 50), "p99_ms": _pct(v, 99)}
            for k, v in kinds.items() if v}


def _pct(values: list[float], pct: int) -> float:
    ordered = sorted(values)
    if len(ordered) == 1:
        return round(ordered[0] * 1000, 2)
    return round(statistics.quantiles(ordered, n=100, method="inclusive")[pct - 1] * 1000, 2)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ops", type=int, default=5000)
    parser.add_argument("--processes", type=int, default=8)
    parser.add_argument("--cli", type=int, default=2, help="how many of them are CLI workers")
    parser.add_argument("--url", help="a Redis URL (default: a throw-away redis-server)")
    parser.add_argument("--prefix", default="load:")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--worker", choices=("lib", "cli"), help=argparse.SUPPRESS)
    parser.add_argument("--count", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--seed", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker == "lib":
        print(json.dumps(library_worker(args.url, args.prefix, args.count, args.seed)))
        return 0
    if args.worker == "cli":
        print(json.dumps(cli_worker(dict(os.environ), args.count, args.seed)))
        return 0
    if args.url:
        report = run_load(args.url, args.prefix, args.ops, args.processes, args.cli)
    else:
        from _redis import redis_server

        with redis_server() as url:
            report = run_load(url, args.prefix, args.ops, args.processes, args.cli)
    if args.json:
        print(json.dumps(report))
    else:
        print(f"{report['operations']} operations by {report['processes']} processes "
              f"({report['cli_processes']} of them ai-cli subcommand loops) in "
              f"{report['wall_s']:.1f} s: {report['ops_per_s']:.0f} ops/s")
        for kind, row in report["latency"].items():
            print(f"  {kind:>4}: {row['count']:>5} ops  p50 {row['p50_ms']:8.2f} ms  "
                  f"p99 {row['p99_ms']:8.2f} ms")
        print(f"invariant problems: {len(report['problems'])}; worker errors: {len(report['errors'])}")
        for line in report["problems"][:10] + report["errors"][:3]:
            print(f"  {line}")
    return 0 if not report["problems"] and not report["errors"] else 1


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    sys.exit(main())
