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
import sys
from pathlib import Path

from grader.formats.gradescope import GradescopeResults

results, log, status = sys.argv[1:]
reason = Path(log).read_text(encoding="utf-8", errors="replace").strip() or f"the grader stopped with exit code {status}"
output = f"Your submission could not be graded.\n\n{reason}"
report = GradescopeResults(score=0.0, output=output, visibility="visible", extra_data={"exit_code": int(status)}, tests=[])
Path(results).write_text(report.model_dump_json(indent=2), encoding="utf-8")
PY
fi
