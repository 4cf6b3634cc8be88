#!/usr/bin/env bash
# Gradescope runs this for every submission, from /autograder: grade /autograder/submission with the hidden tests
# of the course in source/course and write results/results.json in Gradescope's format. When the submission cannot
# be graded at all, results.json still says why, with a score of 0. Made by `grader release --format gradescope`.
set -uo pipefail
root="${GRADER_AUTOGRADER_ROOT:-/autograder}"
venv="${GRADER_VENV:-$root/venv}"
results="$root/results/results.json"
log="$root/results/grader-errors.txt"
mkdir -p "$root/results"
rm -f "$results"

"$venv/bin/grader" run "$root/submission" --course "$root/source/course" --format gradescope --output "$results" \
    2>"$log"
status=$?
cat "$log" >&2

if [ ! -s "$results" ]; then
    "$venv/bin/python" - "$results" "$log" "$status" <<'PY'
import json
import sys

results, log, status = sys.argv[1:]
reason = open(log, encoding="utf-8", errors="replace").read().strip() or f"the grader stopped with exit code {status}"
json.dump({"score": 0.0, "output": f"Your submission could not be graded.\n\n{reason}", "visibility": "visible",
           "tests": []}, open(results, "w", encoding="utf-8"), indent=2)
PY
fi
