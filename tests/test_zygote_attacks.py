"""``grader batch`` end to end with a student who attacks the warm zygote that later students' workers are forked
from: lowering its file size and address space limits, renicing it, pinning it to one CPU and making it idle. The
students graded after them by the same grading process get exactly the points their code earns, and so does the
attacker."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import GRADER, ROOT

from grader.batch.gradebook import Gradebook

pytestmark = pytest.mark.slow  # every test here grades through the real command line

ASSIGNMENTS = ["rnn_forward", "gated_cells"]
ATTACK = '''
import os as _os
import resource as _resource


def _attack_the_zygote():
    """Everything a later worker would inherit from the zygote, made as bad as the kernel lets this worker."""
    zygote = _os.getppid()
    for attempt in (
        lambda: _resource.prlimit(zygote, _resource.RLIMIT_FSIZE, (0, 0)),
        lambda: _resource.prlimit(zygote, _resource.RLIMIT_AS, (1 << 26, 1 << 26)),
        lambda: _os.setpriority(_os.PRIO_PROCESS, zygote, 19),
        lambda: _os.sched_setaffinity(zygote, {min(_os.sched_getaffinity(zygote))}),
        lambda: _os.sched_setscheduler(zygote, _os.SCHED_IDLE, _os.sched_param(0)),
    ):
        try:
            attempt()
        except OSError:
            pass


_attack_the_zygote()
'''


def honest(folder: Path) -> Path:
    folder.mkdir()
    for name in ASSIGNMENTS:
        shutil.copy(ROOT / "reference" / f"{name}.py", folder)
    return folder


@pytest.mark.parametrize("jobs", [1, 2])
def test_a_student_who_attacks_the_zygote_changes_no_later_grade(tmp_path: Path, jobs: int) -> None:
    students = tmp_path / "class"
    students.mkdir()
    attacker = honest(students / "a_attacker")
    (attacker / "rnn_forward.py").write_text(ATTACK + (attacker / "rnn_forward.py").read_text())
    for i in range(3):
        honest(students / f"victim{i}")
    db = tmp_path / "gb.sqlite"
    command = [*GRADER, "batch", str(students), "--db", str(db), "--jobs", str(jobs)]
    result = subprocess.run(
        command + [arg for name in ASSIGNMENTS for arg in ("-a", name)], capture_output=True, text=True, timeout=600
    )
    assert result.returncode == 0, result.stderr
    with Gradebook(db) as gradebook:
        outcomes = {o.student: o for o in gradebook.latest()}
    assert sorted(outcomes) == ["a_attacker", "victim0", "victim1", "victim2"]
    for student, outcome in outcomes.items():
        assert outcome.status == "graded" and outcome.report is not None, (student, outcome.reason)
        failed = [t.name for a in outcome.report.assignments for t in a.tests if t.feedback]
        assert outcome.percent == pytest.approx(100.0) and not failed, (student, failed)
