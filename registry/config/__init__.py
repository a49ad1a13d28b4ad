"""Static configuration: config.yaml, the environment and the user's folders.

`ConfigManager` (settings.py) is the one settings object, built from the defaults, config.yaml
(chosen by pickup.py, read by yaml_file.py, parsed once per text: cache.py), the environment and
the command line; user_dirs.py says where
a user's files live and private_files.py keeps the data dir private.
"""

from registry.config.settings import ConfigManager, FallbackModel, LegacyModel

__all__ = ["ConfigManager", "FallbackModel", "LegacyModel"]
