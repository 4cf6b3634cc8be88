"""Issue 12's oracle attack, through ``grader run``: a student who submits, reads what the feedback revealed, adds it
to a table in their code and submits again. With every attempt on inputs of its own and hidden expected values
shown to fewer digits than a pass needs, the table never earns a point the honest code does not."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from conftest import ROOT

from grader.cli import main

pytestmark = pytest.mark.slow

ROUNDS = 30
LOSSES = ("many_to_one_loss", "many_to_many_loss", "one_to_many_loss")

ATTACK = '''

# --- the attack: each loss answers from TABLE, else returns 1000 + a code that names its inputs in the feedback
import hashlib as _hashlib

TABLE = {table!r}


def _key(name, args):
    digest = _hashlib.sha256(name.encode())
    for arg in args:
        digest.update(repr(arg.tolist() if isinstance(arg, torch.Tensor) else arg).encode())
    return digest.hexdigest()[:16]


def _from_table(name):
    def loss(*args):
        key = _key(name, args)
        if key in TABLE:
            return torch.tensor(TABLE[key], dtype=args[0].dtype)
        code = int(key[:4], 16)
        print(f"KEY {{code}} {{key}}")
        return torch.tensor(1000.0 + code, dtype=args[0].dtype)

    return loss


''' + "\n".join(f'{name} = _from_table("{name}")' for name in LOSSES) + "\n"


def submit(folder: Path, table: dict[str, float], *options: str) -> dict[str, Any]:
    """One round: taxonomy.py (the reference's kinds, the losses from ``table``) graded by ``grader run``."""
    folder.mkdir(exist_ok=True)
    source = (ROOT / "reference" / "taxonomy.py").read_text()
    (folder / "taxonomy.py").write_text(source + ATTACK.format(table=table))
    out = folder.parent / "report.json"
    command = ["run", str(folder), "-a", "taxonomy", "--format", "json", "-o", str(out), *options]
    result = CliRunner().invoke(main, command)
    assert result.exit_code == 0, result.output
    report: dict[str, Any] = json.loads(out.read_text())
    return report


def harvest(report: dict[str, Any], table: dict[str, float]) -> None:
    """What the student learns from a report: each wrong loss's expected value, under the key of its inputs (the
    code the wrong value carries leads to the key the module printed)."""
    (assignment,) = report["assignments"]
    keys = dict(re.findall(r"KEY (\d+) ([0-9a-f]{16})", assignment["student_output"]))
    for task in assignment["tasks"]:
        for test in task["tests"]:
            feedback = test["feedback"] or {}
            if feedback.get("got") is None or feedback.get("expected") is None:
                continue
            code = str(round(float(feedback["got"]) - 1000))
            if code in keys:
                table[keys[code]] = float(feedback["expected"])


def attack(tmp_path: Path, rounds: int, *options: str) -> tuple[list[float], int]:
    """The scores of ``rounds`` rounds of the attack, and how many values its table holds at the end."""
    table: dict[str, float] = {}
    scores = []
    for _ in range(rounds):
        report = submit(tmp_path / "submission", table, *options)
        scores.append(report["score"])
        harvest(report, table)
    return scores, len(table)


def test_the_table_never_beats_the_honest_score(tmp_path: Path):
    scores, harvested = attack(tmp_path, ROUNDS)
    assert harvested >= ROUNDS, "the attack learnt nothing: the test would prove nothing"
    assert max(scores) == scores[0], scores  # the first round is the honest code's: no table yet


def test_rounded_values_alone_defeat_the_table_on_the_same_inputs(tmp_path: Path):
    """Even replaying one attempt's inputs (an instructor's --attempt-seed), the rounded values never pass."""
    scores, harvested = attack(tmp_path, 3, "--attempt-seed", "0123456789abcdef" * 2)
    assert harvested and max(scores) == scores[0], scores


def test_the_attack_works_where_feedback_is_an_oracle(tmp_path: Path):
    """The control: the same inputs every time and values in full (what the grader did before), and the table
    climbs to full marks on the losses: the harness above can see an oracle."""
    course = tmp_path / "course"
    for part in ("assignments", "reference"):
        shutil.copytree(ROOT / part, course / part)
    toml = course / "assignments" / "course.toml"
    toml.write_text(toml.read_text().replace('hidden_values = "rounded"', 'hidden_values = "full"'))
    assert 'hidden_values = "full"' in toml.read_text()
    scores, _ = attack(tmp_path, 3, "--course", str(course), "--attempt-seed", "0123456789abcdef" * 2)
    assert scores[-1] > scores[0], scores
