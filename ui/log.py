"""What `ai-cli serve` writes on its terminal while it runs: one line per problem.

uvicorn logs an exception that escaped a request with its whole traceback ("Exception in ASGI
application" and forty lines). The API has already answered that request with one JSON line
(ui/app.py); the terminal gets one line too: what failed and how to see more. `AI_CLI_DEBUG=1`
keeps the tracebacks for a developer. Text that came with a request is shown inert (control
characters escaped), since a client chooses it.
"""

from __future__ import annotations

import logging

from registry.errors import debugging

PREFIX = "ai-cli web:"


def inert(text: str) -> str:
    """Control characters (ESC, C1, bidi controls, line breaks) shown as escapes, never obeyed."""
    import unicodedata

    return "".join(ch if ch.isprintable() and unicodedata.category(ch) != "Cf"
                   else ch.encode("unicode_escape").decode("ascii") for ch in text)


class OneLine(logging.Formatter):
    """`ai-cli web: error: <message>: <ExceptionType>: <first line>`; no traceback unless
    AI_CLI_DEBUG is set."""

    def format(self, record: logging.LogRecord) -> str:
        level = record.levelname.lower()
        message = record.getMessage().strip().splitlines()[0] if record.getMessage().strip() else ""
        if record.exc_info and record.exc_info[1] is not None:
            exc = record.exc_info[1]
            detail = str(exc).strip().splitlines()
            message = f"{message.rstrip('.')}: {type(exc).__name__}" + (f": {detail[0]}" if detail else "")
            if debugging():
                return inert(f"{PREFIX} {level}: {message}") + "\n" + self.formatException(
                    record.exc_info)
            message += " (AI_CLI_DEBUG=1 shows the traceback)"
        return inert(f"{PREFIX} {level}: {message}")

    def formatException(self, exc_info) -> str:  # noqa: N802 - logging's name
        return super().formatException(exc_info)


def log_config() -> dict:
    """uvicorn's `log_config`: its loggers, warnings and up, through `OneLine` to stderr."""
    handler = {"class": "logging.StreamHandler", "formatter": "one_line",
               "stream": "ext://sys.stderr"}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"one_line": {"()": "ui.log.OneLine"}},
        "handlers": {"stderr": handler},
        "loggers": {
            "uvicorn": {"handlers": ["stderr"], "level": "WARNING", "propagate": False},
            "uvicorn.error": {"level": "WARNING"},
            "uvicorn.access": {"handlers": [], "level": "WARNING", "propagate": False},
        },
    }
