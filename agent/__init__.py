"""The engine: one chat exchange, sessions, /code and its tools, and every command as a handler
that returns data. It reports what happens as events (events.py) to a face (face.py) and never
draws or prints; the faces are cli/ (the terminal) and ui/ (the web). docs/ARCHITECTURE.md."""

__version__ = "1.0.0"
