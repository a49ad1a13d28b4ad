"""The terminal face and the `ai-cli` program: the entry point that builds everything (main.py),
the REPL, the rendering of every result and event, the wizard, and `serve` (which starts the web
face in ui/)."""
