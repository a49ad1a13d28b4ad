"""A child process that takes an in-flight lease and then waits to be killed.

    python balance_lease_worker.py REDIS_URL KEY_PREFIX MODEL_ID SECONDS [cluster]

Prints "taken" once the lease is in Redis, then sleeps; the test SIGKILLs it, so the lease is
never released and must expire by itself.
"""

import sys
import time

import redis

from registry.fleet_state import FleetState
from registry.manager import ModelRegistry


def main() -> None:
    url, prefix, model_id, seconds = sys.argv[1:5]
    cluster = sys.argv[5:] == ["cluster"]
    client = (redis.RedisCluster if cluster else redis.Redis).from_url(url, decode_responses=True)
    lease = FleetState(ModelRegistry(client, key_prefix=prefix)).take(model_id, float(seconds))
    print("taken" if lease is not None else "no lease", flush=True)
    time.sleep(600)


if __name__ == "__main__":
    main()
