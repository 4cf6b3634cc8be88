#!/usr/bin/env bash
# Gradescope runs this for every submission, from /autograder: grade /autograder/submission with the hidden tests
# of the course in source/course and write results/results.json in Gradescope's format. When the submission cannot
# be graded at all, results.json still says why, with a score of 0: the grader's own message for a submission it
# cannot use (exit code 2), and for anything else (a problem of the course or the grader) only that the instructor
# has been told; the grader's log goes to this script's output, which Gradescope shows to instructors only.
# Made by `grader release --format gradescope`.
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

from grader.escape import markdown_text

results, log, status = sys.argv[1:]
lines = Path(log).read_text(encoding="utf-8", errors="replace").splitlines()
reasons = [line.removeprefix("error: ") for line in lines if line.startswith("error: ")][:5]
if status == "2" and reasons:
    reason = "\n\n".join(markdown_text(r[:2000]) for r in reasons)
else:
    reason = "The grader failed on this submission through no fault of yours; your instructor has been told."
output = f"Your submission could not be graded.\n\n{reason}"
report = GradescopeResults(score=0.0, output=output, visibility="visible", extra_data={"exit_code": int(status)}, tests=[])
Path(results).write_text(report.model_dump_json(indent=2), encoding="utf-8")
PY
fi
