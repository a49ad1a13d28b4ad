"""Every kind of registry is a `Registry` (registry/protocol.py): the same members, with the same
parameters, so no caller ever asks an object what it can do."""

from __future__ import annotations

import inspect

import pytest

from registry.config import ConfigManager
from registry.config_yaml import ConfigYamlRegistry
from registry.errors import RegistryReadOnly, RegistryUnavailable
from registry.manager import ModelRegistry
from registry.protocol import Registry
from registry.resilient import ResilientRegistry

METHODS = [name for name, value in vars(Registry).items()
           if callable(value) and not name.startswith("_")]
PROPERTIES = [name for name, value in vars(Registry).items() if isinstance(value, property)]
ATTRIBUTES = list(Registry.__annotations__)


def config() -> ConfigManager:
    return ConfigManager(None, {"ollama": {"url": "http://127.0.0.1:9", "model": "llama3"}})


def registries(fake_redis):
    def unreachable():
        raise RegistryUnavailable("down")

    return {
        "redis": ModelRegistry(fake_redis),
        "resilient": ResilientRegistry(config(), connect=lambda: fake_redis, url="fake"),
        "resilient, Redis down": ResilientRegistry(config(), connect=unreachable, url="fake"),
        "config.yaml": ConfigYamlRegistry(config()),
    }


def test_each_kind_has_every_member_with_the_protocols_parameters(fake_redis):
    assert set(METHODS) >= {"live", "list_models", "remove_model", "add_model"}
    assert set(PROPERTIES) == {"online", "notice", "redis"}
    assert set(ATTRIBUTES) == {"keys", "url", "messages", "on_reconnect"}
    for kind, registry in registries(fake_redis).items():
        for name in ATTRIBUTES + PROPERTIES:  # looked up without running a property
            inspect.getattr_static(registry, name)
        for name in METHODS:
            wanted = list(inspect.signature(getattr(Registry, name)).parameters)[1:]
            given = list(inspect.signature(getattr(registry, name)).parameters)
            assert given == wanted, (kind, name)


def test_online_notice_and_live_agree(fake_redis):
    kinds = registries(fake_redis)
    for kind in ("redis", "resilient"):
        assert kinds[kind].online and kinds[kind].notice is None
        assert isinstance(kinds[kind].live(), ModelRegistry)
    for kind in ("resilient, Redis down", "config.yaml"):
        assert not kinds[kind].online and kinds[kind].notice
        with pytest.raises(RegistryReadOnly):
            kinds[kind].live()
        assert kinds[kind].messages == []


def test_remove_returns_the_removed_model_on_every_kind_that_can(fake_redis):
    for kind in ("redis", "resilient"):
        registry = registries(fake_redis)[kind]
        added = registry.add_model("general", "http://127.0.0.1:9", f"m-{kind.replace(' ', '')}")
        assert registry.remove_model(added.model_id).model_id == added.model_id
