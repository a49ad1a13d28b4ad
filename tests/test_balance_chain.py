"""The chain with the balancer's order (pure, router/chain.py): the first model's hosts are
tried in that order with no notice, entries already tried are left out, and an id, a name or a
pinned host reach the snapshot as `request_key` says."""

from datetime import datetime, timezone

from registry.availability import ProbeResult
from registry.config import FallbackModel
from registry.model import ModelConfig
from router.chain import Snapshot, choose, request_key

T0 = datetime(2026, 11, 1, tzinfo=timezone.utc)
TINY = FallbackModel("http://127.0.0.1:11434", "tinyllama", 60, ("code",))


def host(model_id, port, active=False, name="llama3.1:8b"):
    return ModelConfig(model_id=model_id, model_type="general", url=f"http://127.0.0.1:{port}",
                       model_name=name, timeout=30, is_active=active,
                       added_at=T0.replace(minute=port % 60))


A = host("model_0000000a", 11501, active=True)
B = host("model_0000000b", 11502)
C = host("model_0000000c", 11503)
M = host("model_0000000d", 11504, name="mistral:7b")
FLEET = (A, B, C, M)


def up(*ports):
    def check(model):
        alive = int(model.url.rsplit(":", 1)[1]) in ports
        return ProbeResult(model.model_id, alive, None if alive else "refused", 1)
    return check


def test_the_balancers_first_pick_answers_as_the_active_model_with_no_notice():
    snapshot = Snapshot(FLEET, TINY, order=(C.model_id, A.model_id, B.model_id))
    route = choose("general", snapshot, up(11501, 11502, 11503))
    assert (route.model.model_id, route.via, route.notice) == (C.model_id, "active", None)


def test_the_next_in_order_when_the_pick_is_down_then_other_models():
    snapshot = Snapshot(FLEET, TINY, order=(C.model_id, B.model_id, A.model_id))
    assert choose("general", snapshot, up(11501, 11502)).model.model_id == B.model_id
    route = choose("general", snapshot, up(11504))
    assert route.model.model_id == M.model_id and route.via == "other"


def test_entries_already_tried_are_left_out_even_when_available():
    snapshot = Snapshot(FLEET, TINY, order=(A.model_id, B.model_id, C.model_id),
                        avoid=frozenset({A.model_id, B.model_id}))
    assert choose("general", snapshot, up(11501, 11502, 11503)).model.model_id == C.model_id
    everything = Snapshot(FLEET, TINY, avoid=frozenset({A.model_id, B.model_id, C.model_id}))
    route = choose("general", everything, up(11501, 11502, 11503, 11504))
    assert route.model.model_id == M.model_id and "busy, or already tried" in route.notice


def test_no_order_is_the_active_host_first():
    assert choose("general", Snapshot(FLEET, TINY), up(11501, 11502)).model.model_id == A.model_id


def test_request_keys_tell_an_entry_a_model_and_a_pinned_host_apart():
    by_id = Snapshot(FLEET, TINY, requested=request_key(B.model_id))
    by_name = Snapshot(FLEET, TINY, requested=request_key(B.model_id, any_host=True))
    pinned = Snapshot(FLEET, TINY, requested=request_key(B.model_id, pinned=True))
    assert {s.requested_id for s in (by_id, by_name, pinned)} == {B.model_id}
    assert (by_id.entry_named, by_name.entry_named, pinned.entry_named) == (True, False, False)
    assert (by_id.host_pinned, by_name.host_pinned, pinned.host_pinned) == (False, False, True)
    ordered = Snapshot(FLEET, TINY, requested=request_key(B.model_id, any_host=True),
                       order=(C.model_id, B.model_id, A.model_id))
    route = choose("general", ordered, up(11501, 11502, 11503))
    assert (route.model.model_id, route.via) == (C.model_id, "requested")


def test_an_active_host_left_out_of_the_order_lets_the_others_share():
    """The active entry's host is down (so the balancer left it out): its other hosts are
    still taken in the balancer's order, not registry order."""
    snapshot = Snapshot(FLEET, TINY, order=(C.model_id, B.model_id))
    route = choose("general", snapshot, up(11502, 11503))
    assert (route.model.model_id, route.via, route.notice) == (C.model_id, "active", None)
