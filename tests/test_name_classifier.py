"""The pieces of a trained-model assignment: the dataset's split, partial credit between calibrated thresholds, the
calibration's block in assignment.toml, and a bundle that ships the training names only."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from grader import dataset
from grader.calibrate import BEGIN, END, SPREADS, thresholds, written
from grader.cli import main
from grader.feedback import GradingFailure
from grader.release.bundle import write_bundle
from grader.release.wheel import WHEEL
from grader.runner import grade_assignment
from grader.spec import AssignmentSpec, Course, DatasetSpec, QualitySpec, SpecError
from grader.student import LocalStudent, import_module_from
from grader.testkit import AuthoringError, Grade

SPEC = DatasetSpec(file="data/names.csv", test_fraction=0.2)
FOLDER = Path(__file__).resolve().parent.parent / "assignments" / "name_classifier"


def test_the_split_is_fixed_by_the_secret_disjoint_and_changes_with_it():
    one, again = dataset.load(FOLDER, SPEC, "a" * 32), dataset.load(FOLDER, SPEC, "a" * 32)
    other = dataset.load(FOLDER, SPEC, "b" * 32)
    assert one == again
    assert not set(one.train_inputs) & set(one.test_inputs)
    assert set(one.test_inputs) != set(other.test_inputs)
    total = len(one.train_inputs) + len(one.test_inputs)
    assert 0.15 < len(one.test_inputs) / total < 0.25
    assert one.classes == tuple(sorted(one.classes)) and len(one.classes) >= 10


def test_a_bad_dataset_file_is_named_with_its_line(tmp_path: Path):
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "names.csv").write_text("name,nationality\nAbe,Japanese\nlonely\n")
    with pytest.raises(SpecError, match=r"names.csv, line 3: expected two non-empty columns"):
        dataset.load(tmp_path, SPEC, "c" * 32)
    with pytest.raises(SpecError, match="no such dataset file"):
        dataset.load(tmp_path, DatasetSpec(file="data/missing.csv"), "c" * 32)


def quality_grade(course: Course, quality: dict[str, QualitySpec]) -> Grade:
    spec = course.assignment("name_classifier").spec.model_copy(update={"quality": quality})
    student = LocalStudent(course.reference_module("name_classifier"))
    return Grade(AssignmentSpec.model_validate(spec.model_dump()), student, None, 1, parameters={})


def test_a_quality_between_the_thresholds_earns_its_share(course: Course):
    grade = quality_grade(course, {"accuracy": QualitySpec(full_at=0.3, zero_at=0.1, reference_mean=0.35,
                                                          reference_std=0.01, seeds=5)})
    grade.quality("train_step", "accuracy", 0.31, 0.1, "the accuracy")  # full marks: nothing raised
    with pytest.raises(GradingFailure) as failure:
        grade.quality("train_step", "accuracy", 0.2, 0.1, "the accuracy", "The loss stayed near ln C")
    assert failure.value.feedback.credit == pytest.approx(0.5)
    assert "earns 50% of its points" in failure.value.feedback.message
    assert failure.value.feedback.message.endswith("The loss stayed near ln C")
    with pytest.raises(GradingFailure) as failure:
        grade.quality("train_step", "accuracy", float("nan"), 0.1, "the accuracy")
    assert failure.value.feedback.credit == 0.0


def test_a_quality_nobody_calibrated_is_the_courses_error(course: Course):
    with pytest.raises(AuthoringError, match="grader calibrate name_classifier"):
        quality_grade(course, {}).quality("train_step", "accuracy", 0.3, 0.1, "the accuracy")


def test_partial_credit_reaches_the_score(course: Course, monkeypatch):
    """A model that learns a little earns part of the quality task: the scorer adds the share, not pass or fail."""
    assignment = course.assignment("name_classifier")
    quality = assignment.spec.quality["accuracy"]
    halfway, real = (quality.zero_at + quality.full_at) / 2, Grade.quality
    monkeypatch.setattr(Grade, "quality", lambda self, fn, name, _, *rest: real(self, fn, name, halfway, *rest))
    path = course.reference_module("name_classifier")
    result = grade_assignment(assignment, LocalStudent(path), import_module_from(path), course.spec.seed, "hidden")
    task = next(t for t in result.tasks if t.id == "quality")
    assert task.score == pytest.approx(task.max_score / 2, abs=0.01)
    assert result.score == pytest.approx(result.max_score - task.max_score / 2, abs=0.01)


def test_the_calibrated_block_is_rewritten_in_place_and_nothing_else_moves():
    spec = thresholds([0.30, 0.32, 0.34], [0.08, 0.08, 0.08])
    assert spec.full_at == pytest.approx(min(0.32 - SPREADS * 0.02, 0.30)) and spec.zero_at == 0.08
    text = 'name = "x"\n\n[[tasks]]\nid = "q"\n'
    once = written(text, "x", {"accuracy": spec})
    twice = written(once, "x", {"accuracy": spec.model_copy(update={"full_at": 0.25})})
    assert once.startswith(text) and once.count(BEGIN.format(name="x")) == 1 and once.endswith(END + "\n")
    assert twice.startswith(text) and twice.count("[quality.accuracy]") == 1 and "full_at = 0.25" in twice
    with pytest.raises(SpecError, match="has no"):
        written(text + BEGIN.format(name="x") + "\n", "x", {"accuracy": spec})


def test_calibrate_without_a_quality_test_exits_2_naming_the_assignment():
    result = CliRunner().invoke(main, ["calibrate", "shapes"])
    assert result.exit_code == 2 and "shapes: no hidden test scores a quality" in result.output


def test_the_bundle_ships_the_training_names_and_no_held_out_one(course: Course, tmp_path: Path):
    out, wheel = tmp_path / "bundle", tmp_path / WHEEL
    wheel.write_bytes(b"a stand-in: the bundle's files are what this test reads")
    write_bundle(course, ["name_classifier"], out, wheel, "classroom")
    data = dataset.load(FOLDER, course.assignment("name_classifier").spec.dataset, course.spec.seed)
    shipped = out / "assignments" / "name_classifier" / "data" / "names_train.csv"
    rows = shipped.read_text().splitlines()
    assert rows[0] == "name,nationality" and len(rows) - 1 == len(data.train_inputs)
    every_file = "\n".join(p.read_text(errors="replace") for p in out.rglob("*") if p.is_file() and p.suffix != ".whl")
    held_out = [name for name in data.test_inputs if f"\n{name}," in every_file]
    assert held_out == []
    assert not (out / "assignments" / "name_classifier" / "data" / "names.csv").exists()


def test_the_quality_test_says_what_the_loss_curve_shows():
    """A poor accuracy comes with what the student's own losses and predictions say, in their words."""
    import math

    import torch

    from grader.student import import_module_from

    hidden = import_module_from(FOLDER / "tests" / "hidden" / "test_name_classifier_hidden.py")
    classes = ("Arabic", "Czech", "Dutch")
    spread = torch.tensor([0, 1, 2, 1])
    flat = hidden.what_the_curve_says([math.log(3)] * 100, spread, classes)
    assert "stayed near ln C = 1.10" in flat and "did not learn" in flat
    rising = hidden.what_the_curve_says([1.0] * 50 + [3.0] * 50, spread, classes)
    assert "grew from 1.00 to 3.00" in rising
    broken = hidden.what_the_curve_says([1.0, 0.9, float("nan"), 0.8], spread, classes)
    assert "not a finite number from step 3 on" in broken
    one_answer = hidden.what_the_curve_says([1.0] * 30 + [0.5] * 70, torch.tensor([2, 2, 2]), classes)
    assert one_answer == "Every held-out name was predicted Dutch"
    assert hidden.what_the_curve_says([1.0] * 30 + [0.5] * 70, spread, classes) == ""
