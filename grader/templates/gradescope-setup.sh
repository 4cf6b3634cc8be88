#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder's image (Ubuntu): it installs bubblewrap (the
# sandbox for student code), a Python 3.11+ virtualenv in $root/venv, torch 2.13.0, then the grader from the wheel
# shipped beside this script, every version pinned by constraints.txt. Made by `grader release --format gradescope`.
set -euo pipefail
source_dir="$(cd "$(dirname "$0")" && pwd)"
root="${GRADER_AUTOGRADER_ROOT:-/autograder}"
export DEBIAN_FRONTEND=noninteractive

if ! command -v bwrap >/dev/null 2>&1; then
    apt-get update -qq
    apt-get install -y -qq bubblewrap
fi

python=""
for candidate in python3.13 python3.12 python3.11 python3; do
    if command -v "$candidate" >/dev/null 2>&1 &&
        "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
        python="$candidate"
        break
    fi
done
if [ -z "$python" ]; then
    apt-get update -qq
    apt-get install -y -qq python3.11 python3.11-venv
    python=python3.11
fi
if ! "$python" -m venv "$root/venv"; then
    apt-get install -y -qq "$(basename "$python")-venv"
    "$python" -m venv "$root/venv"
fi

"$root/venv/bin/python" -m pip install -q --upgrade pip
# torch's CPU build from PyTorch's index: PyPI's Linux wheel brings several GB of CUDA libraries
"$root/venv/bin/python" -m pip install -q torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu
"$root/venv/bin/python" -m pip install -q -c "$source_dir/constraints.txt" "$source_dir"/grader-*.whl
