"""HTTP routes, split as the seed has it: commands.py (models, sessions, undo) and chat.py."""
