"""Router speed, on a real Redis and Ollama-protocol test servers on loopback.

1. route(): median decision time with a warm availability cache, and the Redis round trips it costs.
2. check_many(): wall time to check 50 models (one server each) of which 10 hang, against the
   probe timeout (concurrent probes: about one timeout, not ten).
3. Time to first token through Router.stream() against the same test server called directly with
   the `ollama` client, and their ratio.

Run by hand:  .venv/bin/python bench/router_bench.py [--repeat 300] [--probe-timeout 1.0]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT / "tests"))

from _redis import RoundTrips, client, redis_server  # noqa: E402
from ollama_server import OllamaTestServer  # noqa: E402

from registry.availability import AvailabilityChecker  # noqa: E402
from registry.config.settings import ConfigManager  # noqa: E402
from registry.manager import ModelRegistry  # noqa: E402
from router import Router  # noqa: E402


def median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def bench_route(url: str, repeat: int) -> None:
    server = OllamaTestServer().start()
    server.add_model("llama3")
    server.add_model("qwen-coder")
    registry = ModelRegistry(client(url), key_prefix="bench:route:")
    for i in range(8):
        registry.add_model("general", server.url, f"extra{i}", set_active=False)
    registry.add_model("general", server.url, "llama3")
    registry.add_model("coder", server.url, "qwen-coder")
    config = ConfigManager(None, {"tinyollama": {"url": server.url, "model": "tinyllama"}})
    router = Router(registry, config, AvailabilityChecker(registry, probe_timeout=1, ttl=3600))
    for request_type in ("general", "coder"):
        router.route(request_type)  # warm the availability cache
        samples = []
        for _ in range(repeat):
            started = time.perf_counter()
            router.route(request_type)
            samples.append(time.perf_counter() - started)
        trips = RoundTrips()
        with trips.counting():
            router.route(request_type)
        print(f"route({request_type!r}), warm cache, 10 models: median "
              f"{median_ms(samples):.3f} ms, {trips.count} Redis round trips, "
              f"{len(server.requests)} HTTP requests in total (all probes, none per route)")
    server.stop()


def bench_check_many(url: str, probe_timeout: float) -> None:
    servers = [OllamaTestServer().start() for _ in range(50)]
    for i, server in enumerate(servers):
        server.add_model("llama3")
        if i % 5 == 0:
            server.mode = "hang"
    registry = ModelRegistry(client(url), key_prefix="bench:check:")
    models = [registry.add_model("general", s.url, "llama3", set_active=False) for s in servers]
    checker = AvailabilityChecker(registry, probe_timeout=probe_timeout)
    started = time.perf_counter()
    results = checker.check_many(models)
    wall = time.perf_counter() - started
    hung = sum(1 for r in results if r.reason and r.reason.startswith("timed out"))
    up = sum(r.is_available for r in results)
    print(f"check_many: 50 models on 50 servers, {hung} hanging, {up} up: {wall:.2f} s wall "
          f"with a {probe_timeout:g} s probe timeout ({wall / probe_timeout:.2f} timeouts)")
    checker.close()
    for server in servers:
        server.stop()


def bench_first_token(url: str, repeat: int) -> None:
    import ollama

    server = OllamaTestServer().start()
    server.add_model("llama3")
    server.default_reply = "one two three four five"
    registry = ModelRegistry(client(url), key_prefix="bench:ttft:")
    registry.add_model("general", server.url, "llama3")
    config = ConfigManager(None, {"tinyollama": {"url": server.url, "model": "tinyllama"}})
    router = Router(registry, config, AvailabilityChecker(registry, probe_timeout=1, ttl=3600))
    direct_client = ollama.Client(host=server.url, timeout=30)
    messages = [{"role": "user", "content": "hi"}]

    def through_router() -> float:
        started = time.perf_counter()
        stream = iter(router.stream("general", messages))
        next(stream)
        elapsed = time.perf_counter() - started
        for _ in stream:
            pass
        return elapsed

    def direct() -> float:
        started = time.perf_counter()
        stream = direct_client.chat(model="llama3", messages=messages, stream=True)
        next(stream)
        elapsed = time.perf_counter() - started
        for _ in stream:
            pass
        return elapsed

    through_router(), direct()  # warm: imports, ChatOllama built, connections open
    routed = median_ms([through_router() for _ in range(repeat)])
    plain = median_ms([direct() for _ in range(repeat)])
    print(f"time to first token: router {routed:.2f} ms, ollama client direct {plain:.2f} ms, "
          f"ratio {routed / plain:.2f}")
    server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=300)
    parser.add_argument("--probe-timeout", type=float, default=1.0)
    args = parser.parse_args()
    with redis_server() as url:
        bench_route(url, args.repeat)
        bench_check_many(url, args.probe_timeout)
        bench_first_token(url, max(20, args.repeat // 5))


if __name__ == "__main__":
    main()
