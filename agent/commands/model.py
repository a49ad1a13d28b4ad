"""The /model commands (declared in catalog.py): thin handlers over the registry and router."""

from __future__ import annotations

from typing import TYPE_CHECKING

from agent.commands.base import Args
from agent.commands.model_list import ModelList
from agent.errors import AddRefused
from registry.errors import AiCliError, CorruptModel
from registry.model import (
    MODEL_TYPES,
    ModelConfig,
    mask_url,
    now_utc,
    validate_model_name,
    validate_num_ctx,
    validate_parallel,
    validate_timeout,
    validate_url,
)

if TYPE_CHECKING:  # each command imports its own result: `model list` defines only its own
    from registry.lookup import Named
    from agent.commands.model_changes import ModelAdded, ModelChanged
    from agent.commands.probes import CheckResult, Discovered, Status

def find_model(app, text: str, model_type: str | None = None, prefer: str | None = None,
               registry=None) -> ModelConfig:
    """The registered model `text` names: an id, or a name within `model_type` (registry/lookup)."""
    return find_named(app, text, model_type, prefer, registry).model


def find_named(app, text: str, model_type: str | None = None, prefer: str | None = None,
               registry=None) -> Named:
    """What `text` names: the entry, every host of its model, and whether one host was pinned."""
    from registry.lookup import resolve

    registry = registry or app.registry
    return resolve(registry.list_models(), text, model_type, prefer)


def requested_model(app, text: str | None, prefer: str, registry=None) -> str | None:
    """`-m TEXT` as the router takes it (router/chain.py, `Snapshot.requested`): the entry's
    id, followed by `@` when the user pinned its host with `name@host`."""
    if text is None:
        return None
    from router.chain import request_key

    named = find_named(app, text, prefer=prefer, registry=registry)
    return request_key(named.model.model_id, pinned=named.pinned, any_host=named.any_host)


def add(app, args: Args) -> ModelAdded:
    candidate = ModelConfig(
        model_id="",
        model_type=args.model_type,
        url=validate_url(args.url),
        model_name=validate_model_name(args.model_name),
        timeout=validate_timeout(
            app.config.get_default_timeout() if args.timeout is None else args.timeout
        ),
        is_active=not args.no_activate,
        added_at=now_utc(),
        num_ctx=validate_num_ctx(args.num_ctx),
        parallel=validate_parallel(args.parallel),
    )
    registry = app.online_registry()  # fail on an unreachable Redis before probing anything
    from agent.commands.model_changes import ModelAdded
    from registry.replicas import duplicate_of, group_of

    of_type = registry.list_models(candidate.model_type)
    already = duplicate_of(of_type, candidate.model_type, candidate.url, candidate.model_name)
    if already is not None:  # the same URL and model again: nothing to add
        return ModelAdded(already, already=True,
                          hosts=len(group_of(already, of_type).entries))
    with app.face.waiting("Checking availability..."):
        probe = app.checker.check(candidate, force=True)
    forced_reason = None
    if not probe.is_available:
        forced_reason = probe.reason or "the server did not answer"
        if not (args.force or app.confirm(f"{forced_reason}. Add it anyway?")):
            raise AddRefused(
                f"Not added: {forced_reason}. Fix that and retry, or add it anyway with --force."
            )
    model = registry.add_model(
        candidate.model_type, candidate.url, candidate.model_name,
        timeout=candidate.timeout, set_active=candidate.is_active,
        num_ctx=candidate.num_ctx, parallel=candidate.parallel,
    )
    registry.update_availability(model.model_id, probe.is_available)
    hosts = len(group_of(model, [*of_type, model]).entries)
    return ModelAdded(registry.get_model(model.model_id) or model, forced_reason, hosts=hosts)


def list_models(app, args: Args) -> ModelList:
    models = app.read_registry(lambda r: r.list_models(args.model_type))
    _warn_damaged_keys(app)
    # The speed column is for people: JSON has no place for it, so the log is not read for it.
    return ModelList(models, args.model_type, speeds={} if app.flags.json else _speeds(app),
                     load=_load(app, models))


def _load(app, models) -> dict:
    """model id -> HostLoad: in flight now (fleet state), p50 TTFT and success (answer log)."""
    from agent.commands.model_list import HostLoad
    from registry.answer_log import SPEED_WINDOW, AnswerLog
    from registry.fleet_state import FleetState
    from registry.stats import entry_numbers

    ids = [m.model_id for m in models if not m.corrupt]
    try:
        numbers = entry_numbers(AnswerLog(app.registry).newest(SPEED_WINDOW))
    except AiCliError:
        numbers = {}
    flights = FleetState(app.registry).loads(ids) or {}
    return {i: HostLoad(flights[i][0] if i in flights else None, *numbers.get(i, (None, None)))
            for i in ids}


def _warn_damaged_keys(app) -> None:
    """One warning per registry key holding another Redis type: what `list` stepped over."""
    from agent.events import Notice

    registry = app.registry
    for problem in registry.damaged_keys():
        app.face.report(Notice(problem.message, "warn"))
        if problem.message in registry.messages:  # said here: not again after the command
            registry.messages.remove(problem.message)


def _speeds(app) -> dict[str, float]:
    """Median tokens/s per model id from the answer log; empty when it cannot be read."""
    from registry.answer_log import SPEED_WINDOW, AnswerLog, speed_by_model

    try:
        return speed_by_model(AnswerLog(app.registry).stats(SPEED_WINDOW))
    except AiCliError:
        return {}


def use(app, args: Args) -> ModelChanged:
    registry = app.online_registry()
    named = find_named(app, args.model_id, args.model_type, registry=registry)
    found = _answering_host(app, named) if named.several_hosts else named.model
    registry.set_active_model(found.model_id, args.model_type)  # refuses a corrupt one
    model = registry.require_model(found.model_id, args.model_type)
    with app.face.waiting("Checking availability..."):  # as `ollama run` would find out
        probe = app.checker.check(model, force=True)
    warning = None
    try:
        registry.update_availability(model.model_id, probe.is_available)
        model = registry.require_model(model.model_id, args.model_type)
    except AiCliError:
        pass  # the switch is done; only the recorded availability is older
    if not probe.is_available:
        warning = (f"{model.host} does not answer now ({probe.reason or 'no answer'}): the model "
                   "is active, but requests go down the fallback chain until it answers. "
                   "'/model check' probes it again.")
    from agent.commands.model_changes import ModelChanged

    return ModelChanged(model, "is now active", warning=warning)


def _answering_host(app, named: Named) -> ModelConfig:
    """`use NAME` of a model on several hosts: the first (active, then last seen available
    first) whose host answers now, else the first; the others stay its failover."""
    first = named.model
    entries = [first, *(m for m in named.group.entries if m.model_id != first.model_id)]
    with app.face.waiting(f"Checking {len(entries)} hosts..."):
        probes = app.checker.check_many(entries, force=True)
    return next((m for m, p in zip(entries, probes) if p.is_available), first)


def remove(app, args: Args) -> ModelChanged:
    registry = app.online_registry()
    named = app.read_registry(lambda r: find_named(app, args.model_id, args.model_type,
                                                   registry=r))
    if named.several_hosts:  # which host to drop is the user's to say
        from registry.errors import InvalidInput

        name = named.model.model_name
        raise InvalidInput(
            f"{name} is served by {len(named.group.entries)} hosts "
            f"({', '.join(named.group.hosts)}): remove one with '{name}@HOST' or by its id."
        )
    found = named.model
    model = registry.remove_model(found.model_id, args.model_type)  # corrupt ones too
    note = None
    if model.is_active and model.model_type in MODEL_TYPES:
        note = (f"No {model.model_type} model is active now; pick one with "
                f"'/model {model.model_type} use <model_id>'.")
    from agent.commands.model_changes import ModelChanged

    return ModelChanged(model, "removed", note)


def discover(app, args: Args) -> Discovered:
    from agent.commands.probes import Discovered

    from registry.ollama_host import default_ollama_url

    url = validate_url(args.url if args.url else default_ollama_url(app.config.env))
    with app.face.waiting(f"Asking {mask_url(url)} for its models..."):
        names = app.checker.discover(url)
    return Discovered(url, sorted(names))


def check(app, args: Args) -> CheckResult:
    from agent.commands.probes import CheckResult, CheckRow
    from agent.events import Progress

    registry = app.registry
    if args.model_id:
        named = find_named(app, args.model_id, registry=registry)
        target = named.model
        if target.corrupt:
            raise CorruptModel(target.model_id, target.problem, target.model_type)
        # a model's name probes every host of it; an id or NAME@HOST that one
        targets = list(named.group.entries) if named.several_hosts else [target]
    else:  # a corrupt entry has nothing sound to probe: `model list` shows it
        targets = [*(m for m in registry.list_models() if not m.corrupt),
                   app.config.get_fallback_model()]
    result = CheckResult([CheckRow(t.model_id or "fallback", t.model_name, t.shown_url)
                          for t in targets])
    app.face.report(Progress(result))  # every row "checking…", filled in as servers answer

    def answered(index: int, probe) -> None:
        result.rows[index].result = probe
        app.face.report(Progress(result))

    app.checker.check_many(targets, force=True, on_result=answered)
    return result


def status(app, args: Args) -> Status:
    from agent.commands.probes import Status

    registry = app.registry
    report = app.router.status()
    if not registry.online:
        from agent.events import Notice

        app.face.report(Notice(registry.notice, "warn"))
        for route in report["routes"].values():  # Redis away is not "no model configured"
            if route["model"] is None:
                route["notice"] = ("The model registry cannot be read (see above), and neither "
                                   "config.yaml nor the fallback has a model that answers.")
    return Status(report)
