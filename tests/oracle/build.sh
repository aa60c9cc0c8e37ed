#!/usr/bin/env bash
# Builds the reference venv (.oracle-venv, or $XLING_ORACLE_VENV) in which the oracle tests run
# unbabel-comet 2.2.7 and mbrs 0.1.8 on the 2024 stack. Does nothing when it is already built
# from the same requirements.
set -euo pipefail
cd "$(dirname "$0")/../.."
venv="${XLING_ORACLE_VENV:-.oracle-venv}"
requirements=tests/oracle/requirements.txt
if [ -x "$venv/bin/python" ] && cmp -s "$requirements" "$venv/xling-requirements.txt"; then
    exit 0
fi
# say so in one line when the disk cannot hold it, before pip fails half-way with ENOSPC
free_kb="$(df -Pk . | awk 'NR==2 {print $4}')"
if [ "$free_kb" -lt 3145728 ]; then
    echo "$0: the reference venv (1.6 GB installed) needs about 3 GB free; $((free_kb / 1024 / 1024)) GB is free here" >&2
    exit 1
fi
python -m venv --clear "$venv"
"$venv/bin/python" -m pip install --quiet -r "$requirements"
"$venv/bin/python" -m pip check
cp "$requirements" "$venv/xling-requirements.txt"
