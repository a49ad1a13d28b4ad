"""The banner's Limited-mode lines say why a feature is off (pure: `banner_lines`, no I/O)."""

from cli.banner import Found, banner_lines
from registry.config.settings import FallbackModel

FALLBACK = FallbackModel(url="http://127.0.0.1:9", model_name="tinyllama", timeout=5)


def _texts(found: Found) -> list[str]:
    return [line.text for line in banner_lines(found) if line is not None]


def _found(**changes) -> Found:
    fields = dict(version="0", active={"general": None, "coder": None}, fallback=FALLBACK,
                  probes={}, chat=False, code=False, notices={})
    fields.update(changes)
    return Found(**fields)


def test_no_model_configured_tells_how_to_add_one():
    texts = _texts(_found())
    assert "Limited mode: Use '/model general add' to enable chat features." in texts


def test_a_registry_that_is_away_is_never_taken_for_no_model_configured():
    texts = _texts(_found(registry_error="Redis at redis://127.0.0.1:9 is unreachable."))
    assert not any("/model general add" in text or "/model coder add" in text for text in texts)
    assert ("Limited mode: chat is off until the model registry answers again (see above) or "
            "the fallback is reachable.") in texts
