"""Every command the engine offers: words, arguments, options, help, and the handler that runs it.

This one list feeds the REPL's parser and the `ai-cli` subcommands (table.py), `/help`, tab
completion, docs/COMMANDS.md and the web API's routes. A handler is named `"module:function"` and
imported only when its command runs, so reading the table costs no handler's imports: `ai-cli
model list` loads the model commands' module and nothing of sessions, chat or /code.

The order here is the order of `/help` and docs/COMMANDS.md. A face adds the commands only it can
run (the terminal's wizard and `serve`) at the end of their group (agent/commands/__init__.py).
"""

from __future__ import annotations

from agent.commands.base import REPL, SUBCOMMAND, Arg, Command, Option, model_type_slot

TYPE = model_type_slot()
MODEL_ID = Arg("model_id", "a model id, or the model's name (e.g. llama3.1:8b)",
               complete="model_id")
SESSION_ID = Arg("session_id", help="a session id from /session list", complete="session_id")
DEFAULT_LOG_COUNT = 20

CHAT_OPTIONS = (
    Option("--model", "the model for this request only: an id or a name (failover still applies)",
           "MODEL", short="-m"),
    Option("--system", "system prompt; stored with the session, so later turns keep it", "TEXT",
           short="-s"),
    Option("--option", "an Ollama option, e.g. -o temperature 0.2 (temperature, top_p, top_k, "
           "min_p, seed, num_ctx, num_predict, stop, ...; keep_alive 10m, think false)",
           "KEY VALUE", short="-o", repeat=True, values=2),
    Option("--continue", "continue the conversation of the most recent exchange", short="-c"),
    Option("--file", "put this file's text into the prompt, under its name", "PATH", short="-f",
           repeat=True),
)

CHAT = [
    Command(
        ("chat",), "Ask the general model; the answer streams as it arrives",
        "agent.commands.chat:chat",
        args=(Arg("message", help="the question; piped stdin goes ahead of it",
                  optional=True, rest=True),),
        options=CHAT_OPTIONS,
        needs="chat",
        details="With --session ID (or after 'ai-cli session use ID', or with -c) the session's "
                "history is sent along and the exchange is saved to it. Flags go before the "
                "message in the REPL; '--' ends them. Ctrl-C stops the answer.",
    ),
]

MODEL = [
    Command(
        ("model", TYPE, "add"), "Register a model (checks the server first) and make it active",
        "agent.commands.model:add",
        args=(Arg("url", "the Ollama server, e.g. http://localhost:11434", complete="url"),
              Arg("model_name", "the name Ollama knows it by, e.g. llama3.1:8b")),
        options=(
            Option("--timeout", "request timeout in seconds (default: defaults.timeout)",
                   "SECONDS"),
            Option("--num-ctx", "the context size sent on every request to it, in tokens "
                   "(default: the model's window, capped by defaults.max_context)", "TOKENS"),
            Option("--parallel", "requests its server runs at once: that box's "
                   "OLLAMA_NUM_PARALLEL (default 1)", "N"),
            Option("--no-activate", "register it without making it the active model"),
            Option("--force", "register it even when the server does not answer or lacks it"),
        ),
        details="Refuses a server that does not answer or does not have the model, saying why "
                "and how to fix it; --force (or answering yes in the REPL) adds it anyway.",
    ),
    Command(("model", "list"), "List every registered model", "agent.commands.model:list_models",
            synonyms=("models", "ls")),
    Command(("model", TYPE, "list"), "List the registered models of one type",
            "agent.commands.model:list_models"),
    Command(("model", TYPE, "use"), "Make a model the active one of its type",
            "agent.commands.model:use", args=(MODEL_ID,)),
    Command(("model", "use"), "Make a model the active one of its type (the id tells the type)",
            "agent.commands.model:use", args=(MODEL_ID,), synonyms=("switch", "select"),
            details="Probes the model's server after the switch: one that does not answer is "
                    "still made active (exit 0), with a warning that requests fall back until "
                    "it answers."),
    Command(("model", TYPE, "remove"), "Remove a model from the registry",
            "agent.commands.model:remove", args=(MODEL_ID,)),
    Command(("model", "remove"), "Remove a model from the registry (the id tells the type)",
            "agent.commands.model:remove", args=(MODEL_ID,)),
    Command(("model", TYPE, "discover"), "List the models an Ollama server has",
            "agent.commands.model:discover",
            args=(Arg("url", "the Ollama server to ask (default: OLLAMA_HOST, else "
                             "127.0.0.1:11434)", optional=True, complete="url"),)),
    Command(("model", "discover"), "List the models an Ollama server has",
            "agent.commands.model:discover",
            args=(Arg("url", "the Ollama server to ask (default: OLLAMA_HOST, else "
                             "127.0.0.1:11434)", optional=True, complete="url"),),
            details="As `ollama list` does, OLLAMA_HOST (host, host:port, or a URL) names the "
                    "server when no URL is given; a URL without a scheme gets http://."),
    Command(("model", "check"), "Probe the models (all, or one) and record the result",
            "agent.commands.model:check",
            args=(Arg("model_id", optional=True, complete="model_id"),)),
    Command(("model", "status"), "The active model of each type and what would be used now",
            "agent.commands.model:status",
            details="Exits 1 when a route has no model that can answer (general, or coder: "
                    "/code would be off), so a script can test it; 0 when both have one (the "
                    "coder route may use the general model)."),
    Command(
        ("model", "stats"), "Per model and per host: requests, success rate, failures, time to "
        "first token, tokens/s",
        "agent.commands.stats:stats",
        details="Over the answer log (its newest 10,000 entries): requests, the share answered "
                "whole, failures by kind (broken, failed over), p50 and p90 time to first "
                "token, median tokens per second, and each host's parallel. Also GET "
                "/models/stats. See docs/CONTEXT.md.",
    ),
    Command(
        ("model", TYPE, "balance"), "Spread requests over a model's hosts (on), or use the "
        "active host first (off); no word: say which",
        "agent.commands.balance:balance",
        args=(Arg("state", "on or off", optional=True),),
        details="On (the default, or routing.balance in config.yaml) a model served by two or "
                "more hosts has each request sent where the first token is predicted soonest "
                "(recent time to first token, requests in flight, whether the model is loaded), "
                "shared by every ai-cli process through Redis. Stored in Redis; wins over "
                "config.yaml. See docs/MODEL_MANAGEMENT.md.",
    ),
    Command(
        ("model", "repair"), "Check the registry's invariants and fix dangling entries",
        "agent.commands.repair:repair",
        options=(Option("--dry-run",
                        "report what is wrong and what would be fixed; change nothing"),),
        details="Removes index members that have no stored model, clears active pointers that "
                "name a missing or corrupt model, and leaves one is_active flag per type, all in "
                "one transaction. Corrupt entries are reported with the command that removes "
                "them.",
    ),
]

SESSION = [
    Command(("session", "new"), "Start a new chat session and use it",
            "agent.commands.session:new", synonyms=("clear", "reset", "new")),
    Command(("session", "list"), "List saved chat sessions, most recent first",
            "agent.commands.session:list_sessions", synonyms=("sessions", "history"),
            options=(Option("--query", "only sessions whose title or messages hold TEXT "
                            "(any case)", "TEXT", short="-q"),)),
    Command(("session", "use"), "Continue a saved session ('none': stop using one)",
            "agent.commands.session:use",
            args=(Arg("session_id", help="a session id from /session list, or 'none'",
                      complete="session_id"),),
            details="In the shell the choice is kept for later 'ai-cli' commands (a 0600 file "
                    "in the data dir) until 'ai-cli session use none'."),
    Command(("session", "show"), "Show a session and its messages (default: the one in use)",
            "agent.commands.session:show",
            args=(Arg("session_id", optional=True, complete="session_id"),)),
    Command(("session", "delete"), "Delete a session and its messages",
            "agent.commands.session:delete", args=(SESSION_ID,)),
    Command(("session", "remove"), "Delete a session and its messages (as 'session delete')",
            "agent.commands.session:delete", args=(SESSION_ID,)),
    Command(("session", "export"), "Write a session out as Markdown (to read) or JSON (to load)",
            "agent.commands.session:export", args=(SESSION_ID,),
            options=(Option("--format", "markdown (default) or json", "FORMAT"),),
            details="To stdout: 'ai-cli session export ID > chat.md'. JSON is the `session "
                    "show --json` shape, every stored message included."),
    Command(("session", "model", TYPE), "Pin a model for this session ('none' unpins)",
            "agent.commands.session:pin_model",
            args=(Arg("model_id", help="a model id or name, or 'none'", complete="model_id"),)),
    Command(("session", "system"), "Show or set this session's system prompt ('none' clears)",
            "agent.commands.session:set_system",
            args=(Arg("text", help="the system prompt", optional=True, rest=True),)),
    Command(("session", "option"),
            "Set a default Ollama option for this session (no value or 'none' removes it)",
            "agent.commands.session:set_option",
            args=(Arg("key", help="temperature, top_p, top_k, min_p, seed, num_ctx, num_predict, "
                                  "stop, keep_alive, think, ...; 'none' clears all"),
                  Arg("value", help="its value", optional=True))),
]

LOG = [
    Command(
        ("log",), "Recent answers: model, tokens, time to first token, speed, status",
        "agent.commands.usage:show_log",
        options=(
            Option("--count", f"how many (default {DEFAULT_LOG_COUNT})", "N", short="-n"),
            Option("--model", "only this model (id or name)", "ID|NAME"),
            Option("--query", "only answers whose prompt or answer holds TEXT (any case)",
                   "TEXT", short="-q"),
            Option("--since", "only answers since then: 30m, 1h, 2d, 1w, or a date", "WHEN"),
            Option("--no-text", "the compact table, without prompts and answers"),
        ),
        details="Newest first, from the `log:answers` stream every ai-cli process writes "
                "(one-shot `ai-cli chat` answers too), with each prompt and answer (as "
                "`llm logs`). A request that failed over logs the model that failed (status "
                "failed_over) and the one that answered. With the global `--session ID`, only "
                "that session's answers. See docs/SESSIONS.md and docs/CONTEXT.md.",
    ),
]

CODE = [
    Command(
        ("code",), "Let the coder model read and edit files in the workspace",
        "agent.commands.code:code",
        args=(Arg("instruction", help="what to change", rest=True),),
        options=(Option("--model", "the model for this run only: an id or a name (failover "
                        "still applies)", "MODEL", short="-m"),),
        needs="code",
        details="Every change is shown as a diff and needs yes / no / all (--yes skips the "
                "question). Files outside the workspace (--workspace, default: the current "
                "folder) are never touched. /undo restores the files the last /code changed.",
    ),
    Command(("undo",), "Restore the files the last /code changed", "agent.commands.code:undo",
            group="code"),
]

PROGRAM = [
    Command(
        ("migrate",),
        "Copy the models of config.yaml (ollama:/general:, coder:) into the registry, once",
        "agent.commands.migrate:run_migration",
        options=(Option("--dry-run", "show what would change; write nothing"),),
        faces=frozenset({SUBCOMMAND}),
        group="program",
        details=(
            "Sets up the registry keys, makes the config.yaml models the active general and coder "
            "models (a model already registered with the same URL and name is made active, not "
            "copied), and records models:migrated. All in one transaction; a second run changes "
            "nothing. config.yaml is never written. Runs by itself at the first start unless "
            "AI_CLI_SKIP_MODEL_MIGRATION=true. See docs/MIGRATION.md."
        ),
    ),
    Command(("config", "path"), "Which config file is in use, and why",
            "agent.commands.config:show_path", group="program",
            details="./config.yaml is read only when it has a top-level `ai_cli:` line (or "
                    "--config names it), so another project's config.yaml is never picked up. "
                    "See docs/CONFIG.md."),
    Command(("config", "show"), "Every setting, merged, with where each came from",
            "agent.commands.config:show_settings", group="program",
            details="Sources: default, file, env, flag. Passwords in URLs are masked."),
    Command(("help",), "Show the commands, marking those that are off right now and why",
            "agent.commands.general:show_help", group="program"),
    Command(("quit",), "Leave ai-cli (also /exit and Ctrl-D)", "agent.commands.general:leave",
            faces=frozenset({REPL}), aliases=(("exit",),), group="program"),
]

COMMANDS = [*CHAT, *MODEL, *SESSION, *LOG, *CODE, *PROGRAM]
