"""Run by test_registry_processes.py in separate processes: random registry changes on one Redis
(one server, or a Redis Cluster when the fifth argument is "cluster")."""

import random
import sys

from redis_cluster import RedisTarget
from registry.errors import UnknownModel
from registry.manager import ModelRegistry


def main(url: str, prefix: str, operations: int, seed: int, cluster: bool = False) -> None:
    registry = ModelRegistry(RedisTarget(url, cluster).client(), key_prefix=prefix)
    rng = random.Random(seed)
    done = 0
    for _ in range(operations):
        model_type = rng.choice(("general", "coder"))
        ids = [m.model_id for m in registry.list_models(model_type)]
        op = rng.choice(("add", "add", "use", "remove")) if ids else "add"
        try:
            if op == "add":
                registry.add_model(model_type, "http://127.0.0.1:11434", f"m{rng.randrange(99)}",
                                   set_active=rng.random() < 0.7)
            elif op == "use":
                registry.set_active_model(rng.choice(ids), model_type=model_type)
            else:
                registry.remove_model(rng.choice(ids), model_type=model_type)
        except UnknownModel:
            pass  # another process removed it between our list and our change: expected
        done += 1
    print(done)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]),
         cluster=sys.argv[5:] == ["cluster"])
