"""In-flight leases across real processes: a process killed with SIGKILL in the middle of a
request cannot leave its host counted busy; the count returns to 0 once the lease expires.
The expiry is short and chosen by the test; the wait for it is a poll with a generous bound."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from registry.fleet_state import FleetState

HERE = Path(__file__).resolve().parent
pytestmark = pytest.mark.process
LEASE_S = 1.0
BOUND_S = 60.0  # generous: the check is "it returns to 0", not how fast


def child_env() -> dict:
    return {**os.environ, "PYTHONPATH": os.pathsep.join([str(HERE), str(HERE.parent)])}


@pytest.mark.also_on_cluster
def test_a_lease_held_by_a_killed_process_expires(redis_target, real_registry, key_prefix):
    kind = ["cluster"] if redis_target.cluster else []
    child = subprocess.Popen(
        [sys.executable, str(HERE / "balance_lease_worker.py"), redis_target.url, key_prefix,
         "model_0000beef", str(LEASE_S), *kind],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=child_env())
    try:
        assert child.stdout.readline().strip() == "taken", child.stderr.read()
        fleet = FleetState(real_registry)
        assert fleet.in_flight("model_0000beef") == 1
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
        deadline = time.monotonic() + BOUND_S
        while fleet.in_flight("model_0000beef") != 0 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert fleet.in_flight("model_0000beef") == 0
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()

