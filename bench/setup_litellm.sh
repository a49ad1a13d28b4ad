#!/usr/bin/env bash
# LiteLLM for the balancing bench's comparison drivers, in a venv of the bench's own (gitignored):
# never one of ai-cli's dependencies. balance_bench.py runs this when the venv is missing.
# The version is pinned: a release after the compromised 1.107.0 (yanked), checked by hand.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
venv="$here/.venv-litellm"
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
"$venv/bin/pip" install -q --disable-pip-version-check "litellm==1.110.2"
"$venv/bin/python" -c "import litellm, sys; print('litellm', litellm.__version__ if hasattr(litellm, '__version__') else '?', 'in', sys.prefix)"
