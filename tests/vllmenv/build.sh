#!/usr/bin/env bash
# Builds the vLLM venv (.vllm-venv, or $XLING_VLLM_VENV): vLLM's CPU build and xling with its
# requirements, where the `--backend vllm` tests run. Does nothing when it is already built from
# the same requirements and setup.cfg.
set -euo pipefail
cd "$(dirname "$0")/../.."
venv="${XLING_VLLM_VENV:-.vllm-venv}"
# rebuilt when vLLM's requirements or xling's own (install_requires) change; xling's code is
# installed editable, so code changes need nothing
requires="$(python -c 'import configparser; c = configparser.ConfigParser(); c.read("setup.cfg"); print(c["options"]["install_requires"])')"
stamp="$( (cat tests/vllmenv/requirements.txt; echo "$requires") | sha256sum | cut -c1-16)"
if [ -x "$venv/bin/python" ] && [ "$(cat "$venv/xling-stamp" 2>/dev/null)" = "$stamp" ]; then
    exit 0
fi
# say so in one line when the disk cannot hold it, before pip fails half-way with ENOSPC
free_kb="$(df -Pk . | awk 'NR==2 {print $4}')"
if [ "$free_kb" -lt 6291456 ]; then
    echo "$0: the vLLM venv (4.3 GB installed, more while pip unpacks) needs about 6 GB free; $((free_kb / 1024 / 1024)) GB is free here" >&2
    exit 1
fi
python -m venv --clear "$venv"
"$venv/bin/python" -m pip install --quiet -r tests/vllmenv/requirements.txt -e .
# PyPI's torchvision/torchaudio/torchcodec are built against another torch and break torch+cpu
# at import ("operator torchvision::nms does not exist"); vLLM needs them only for images/audio.
"$venv/bin/python" -m pip uninstall --quiet -y torchvision torchaudio torchcodec
echo "$stamp" > "$venv/xling-stamp"
