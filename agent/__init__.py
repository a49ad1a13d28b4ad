"""The `ai-cli` program: REPL, commands, wizard, chat loop, code tools and sessions."""

__version__ = "1.0.0"
