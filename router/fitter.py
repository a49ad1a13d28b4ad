"""`ContextFitter`: router/context.py's pure fit, fed with each model entry's window and ratio.

The window (sent as `num_ctx` on every request to the entry, whatever its size: Ollama reloads a
model whose `num_ctx` changes) is the user's `-o num_ctx`, else the entry's `num_ctx` (`--num-ctx`
on add), else the model's window from `/api/show` (the checker caches it with the capabilities;
`defaults.context_window` when the server does not say) capped by `defaults.max_context`. The
ratio comes from `Calibration` (Redis) and is moved by each answer's `prompt_eval_count`.
"""

from __future__ import annotations

from registry.calibration import Calibration
from registry.model import ModelConfig
from router.context import (
    DEFAULT_CHARS_PER_TOKEN,
    Fit,
    calibrated,
    fit,
    stub_tool_output,
    too_big_message,
    user_num_ctx,
    window_for,
)
from router.errors import InputTooBig

DEFAULT_MAX_CONTEXT = 8192
DEFAULT_CONTEXT_WINDOW = 4096  # assumed when /api/show does not say
LEAST_CONTEXT = 256


class ContextFitter:
    def __init__(self, registry, config, checker):
        self.checker = checker
        self.max_context = config.get_count("defaults", "max_context", DEFAULT_MAX_CONTEXT,
                                            least=LEAST_CONTEXT)
        self.default_window = config.get_count("defaults", "context_window",
                                               DEFAULT_CONTEXT_WINDOW, least=LEAST_CONTEXT)
        self.calibration = Calibration(registry, DEFAULT_CHARS_PER_TOKEN)

    def window(self, model, options: dict | None = None) -> int:
        fixed, entry = user_num_ctx(options), entry_num_ctx(model)
        if fixed or entry:  # chosen by a person: no need to ask the server for its window
            return window_for(None, self.max_context, self.default_window, fixed, entry)
        return window_for(self.checker.context_length(model), self.max_context,
                          self.default_window)

    def fit(self, model, messages: list, options: dict | None = None, tool_chars: int = 0) -> Fit:
        """The messages fitted to the entry's window; `InputTooBig` (nothing sent) when even
        the system prompt and the newest message leave the answer no room."""
        fitted = fit(messages, self.window(model, options), options=options,
                     chars_per_token=self.calibration.ratio(model), stub=stub_tool_output,
                     fixed_chars=tool_chars)
        if fitted.overflows:
            raise InputTooBig(too_big_message(fitted, model.model_name,
                                              self.checker.context_length(model)))
        return fitted

    def observe(self, model, fitted: Fit, prompt_tokens: int | None) -> float:
        """Move the model's ratio toward what Ollama counted for the prompt just sent."""
        ratio = self.calibration.ratio(model)
        moved = calibrated(ratio, fitted.chars, len(fitted.messages), prompt_tokens)
        if moved != ratio:
            self.calibration.store(model, moved)
        return moved


def entry_num_ctx(model) -> int | None:
    """The `num_ctx` stored with a registry entry (`--num-ctx`); the config.yaml fallback has
    none."""
    return model.num_ctx if isinstance(model, ModelConfig) else None
