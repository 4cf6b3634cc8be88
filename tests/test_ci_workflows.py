"""The workflows: the project's own CI and the two shipped for courses. actionlint checks them when it is
installed; these tests always check the structure GitHub Actions needs and the rules that keep the course
repository's pull_request_target workflow safe."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import ROOT

from grader.ci.classroom import RUNNERS
from grader.ci.comment import MARKER
from grader.release import workflows
from grader.release.bundle import write_bundle
from grader.spec import Course

CI = ROOT / ".github" / "workflows" / "ci.yml"
CLASSROOM = ROOT / "grader" / "templates" / "classroom.yml"
COURSE = ROOT / "grader" / "templates" / "course-pull-request.yml"
WORKFLOWS = [CI, CLASSROOM, COURSE]
EXPRESSION = re.compile(r"\$\{\{(.*?)\}\}", re.DOTALL)
CONTEXTS = {"github", "secrets", "steps", "runner", "env", "inputs"}
FUNCTIONS = {"hashFiles", "always", "success", "failure", "cancelled"}
STEP_KEYS = {"name", "id", "if", "uses", "run", "with", "env", "shell", "working-directory", "timeout-minutes"}


def released(tmp_path: Path, mode: workflows.Workflow) -> Path:
    """A bundle of taxonomy released with ``mode``'s workflow (a stand-in wheel: nothing installs it)."""
    wheel = tmp_path / "grader-0.1.0-py3-none-any.whl"
    wheel.write_bytes(b"a stand-in")
    write_bundle(Course(ROOT), ["taxonomy"], tmp_path / "bundle", wheel, mode)
    return tmp_path / "bundle"


def load(path: Path) -> dict[str, Any]:
    """The workflow as GitHub reads it (PyYAML reads the key ``on`` as True: put it back)."""
    workflow = yaml.safe_load(path.read_text())
    workflow["on"] = workflow.pop(True)
    return workflow


def steps(workflow: dict[str, Any]) -> list[dict[str, Any]]:
    return [step for job in workflow["jobs"].values() for step in job["steps"]]


def expressions(value: Any) -> list[str]:
    """Every ``${{ ... }}`` expression in a workflow value, stripped."""
    if isinstance(value, dict):
        return [e for v in value.values() for e in expressions(v)]
    if isinstance(value, list):
        return [e for v in value for e in expressions(v)]
    return [e.strip() for e in EXPRESSION.findall(value)] if isinstance(value, str) else []


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_workflow_structure(path):
    """Top-level keys, jobs with a runner, steps that either use an action pinned to a version or run a script,
    unique step ids, only known contexts, and step outputs read only from earlier steps."""
    workflow = load(path)
    assert set(workflow) <= {"name", "on", "permissions", "concurrency", "jobs", "env"}
    assert workflow["name"] and workflow["on"] and workflow["jobs"]
    for job in workflow["jobs"].values():
        assert job["runs-on"] == "ubuntu-latest" and job["timeout-minutes"] <= 60
        seen: list[str] = []
        for step in job["steps"]:
            assert set(step) <= STEP_KEYS and step.get("name"), step
            assert ("uses" in step) != ("run" in step), step
            if "uses" in step:
                assert re.fullmatch(r"[\w.-]+/[\w.-]+@v\d+", step["uses"]), step["uses"]
            for expression in expressions(step):
                assert re.match(r"!?\s*([A-Za-z]+)", expression)[1] in CONTEXTS | FUNCTIONS, expression
                for used in re.findall(r"steps\.([\w-]+)\.outputs", expression):
                    assert used in seen, f"{step['name']} reads the outputs of {used} before it runs"
            if "id" in step:
                assert step["id"] not in seen
                seen.append(step["id"])


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_no_expression_is_pasted_into_a_script(path):
    """A ``${{ }}`` inside ``run:`` is pasted into the shell before it runs: script injection. Values reach
    scripts through ``env:`` instead."""
    assert all("${{" not in step.get("run", "") for step in steps(load(path)))


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_actionlint_accepts_the_workflow(path, tmp_path):
    actionlint = shutil.which("actionlint")
    if actionlint is None:
        pytest.skip("actionlint is not installed: neither Debian (bookworm) nor PyPI ships its binary here")
    target = tmp_path / ".github" / "workflows" / path.name
    target.parent.mkdir(parents=True)
    shutil.copy(path, target)
    done = subprocess.run([actionlint, str(target)], cwd=tmp_path, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_project_ci_runs_the_readme_test_command():
    runs = [step.get("run", "") for step in steps(load(CI))]
    assert "bash .ci/run" in runs
    assert (
        "bash .ci/setup && .venv/bin/ruff check . && .venv/bin/mypy && .venv/bin/pytest -n 2"
        in (ROOT / ".ci" / "run").read_text()
    )


TORCH_CPU = "https://download.pytorch.org/whl/cpu"


@pytest.mark.parametrize("path", [CLASSROOM, COURSE], ids=lambda p: p.name)
def test_the_course_workflows_install_torch_s_cpu_build(path):
    """PyPI's Linux torch wheel brings several GB of CUDA libraries to every grading run: PyTorch's CPU index."""
    installs = [line.strip() for step in steps(load(path)) for line in step.get("run", "").splitlines()]
    torch = [line for line in installs if "pip install" in line and "torch" in line]
    assert torch == [f"python -m pip install -q torch==2.13.0 --index-url {TORCH_CPU}"]


def test_the_project_ci_takes_torch_s_cpu_build():
    step = next(step for step in steps(load(CI)) if step.get("run") == "bash .ci/run")
    assert step["env"]["PIP_EXTRA_INDEX_URL"] == TORCH_CPU
    assert ".venv/bin/pip install -q torch==2.13.0\n" in (ROOT / ".ci" / "setup").read_text()


def test_classroom_workflow_feeds_the_grading_reporter():
    """The reporter reads ``$<RUNNER>_RESULTS`` for each runner id, here grader ci's step outputs earned and missed;
    it runs whenever grader ci wrote them, also when grader ci exits non-zero (an ungradable repository's 0)."""
    workflow = load(CLASSROOM)
    assert {"push", "pull_request"} <= set(workflow["on"])
    job = next(iter(workflow["jobs"].values()))
    assert job["name"] == "Autograding Tests" and workflow["permissions"]["checks"] == "write"
    grader = next(s for s in job["steps"] if s.get("id") == "grader")
    assert grader["run"].startswith("grader ci . --public")
    reporter = next(s for s in job["steps"] if s.get("uses", "").startswith("classroom-resources/"))
    assert reporter["uses"] == "classroom-resources/autograding-grading-reporter@v1"
    assert reporter["with"]["runners"].split(",") == list(RUNNERS)
    assert reporter["env"] == {f"{r.upper()}_RESULTS": f"${{{{ steps.grader.outputs.{r} }}}}" for r in RUNNERS}
    assert reporter["if"] == "${{ !cancelled() && steps.grader.outputs.earned != '' }}"


def test_classroom_workflow_caches_pip_keyed_on_the_shipped_constraints(tmp_path):
    """setup-python keeps pip's cache between runs, keyed on the constraints file the bundle ships and the install
    is pinned by, so a push downloads nothing again until the grading environment changes."""
    job_steps = steps(load(CLASSROOM))
    python = next(s for s in job_steps if s.get("uses", "").startswith("actions/setup-python@"))
    assert python["with"]["cache"] == "pip"
    key = python["with"]["cache-dependency-path"]
    installs = [line.strip() for s in job_steps for line in s.get("run", "").splitlines() if "pip install" in line]
    assert installs[-1] == f"python -m pip install -q -c {key} .grader/grader-*.whl"
    assert job_steps.index(python) < next(i for i, s in enumerate(job_steps) if "pip install" in s.get("run", ""))
    bundle = released(tmp_path, "classroom")
    assert "torch==2.13.0" in (bundle / key).read_text().splitlines()


@pytest.mark.parametrize("mode", list(workflows.WORKFLOWS))
def test_the_shipped_workflow_cannot_clash_with_classroom_s_own(tmp_path, mode):
    """GitHub Classroom's UI writes .github/workflows/classroom.yml when an instructor adds tests there: the bundle's
    workflow has another name, and is its template as it is."""
    bundle = released(tmp_path, mode)
    (shipped,) = (bundle / ".github" / "workflows").iterdir()
    files = workflows.WORKFLOWS[mode]
    assert shipped.name == files.shipped != "classroom.yml"
    assert shipped.read_text() == (ROOT / "grader" / "templates" / files.template).read_text()


def test_course_workflow_never_runs_the_pull_requests_code_outside_the_sandbox():
    workflow = load(COURSE)
    assert set(workflow["on"]) == {"pull_request_target"}
    assert workflow["permissions"] == {"contents": "read", "pull-requests": "write", "statuses": "write"}
    job_steps = steps(workflow)
    checkouts = [s for s in job_steps if s.get("uses", "").startswith("actions/checkout@")]
    base, head = checkouts
    assert base["with"] == {"ref": "${{ github.event.pull_request.base.sha }}", "persist-credentials": False}
    assert head["with"]["ref"] == "${{ github.event.pull_request.head.sha }}"
    assert head["with"]["persist-credentials"] is False
    folder = head["with"]["path"]
    scripts = [s["run"] for s in job_steps if "run" in s]
    uses = [s for s in scripts if folder in s]
    assert len(uses) == 1 and uses[0].startswith(f"grader ci {folder} --hidden-bundle"), uses
    assert all("pip install" not in s or folder not in s for s in scripts)
    with_secrets = [s for s in job_steps if "secrets." in str(s)]
    assert [s.get("id") for s in with_secrets] == ["grade"]
    assert (
        list(with_secrets[0]["env"]) == ["GRADER_HIDDEN_KEY"]
        and "--key-env GRADER_HIDDEN_KEY" in with_secrets[0]["run"]
    )


def test_course_workflow_updates_its_own_comment_and_sets_a_status():
    job_steps = steps(load(COURSE))
    scripts = [s["with"]["script"] for s in job_steps if s.get("uses", "").startswith("actions/github-script@")]
    comment, status = scripts
    assert f"const marker = '{MARKER}';" in comment
    assert "updateComment" in comment and "createComment" in comment and "github-actions[bot]" in comment
    assert "createCommitStatus" in status and "pull_request.head.sha" in status
    grade = next(s for s in job_steps if s.get("id") == "grade")
    assert '--comment "$RUNNER_TEMP/grader-comment.md"' in grade["run"]
    assert "`${process.env.RUNNER_TEMP}/grader-comment.md`" in comment
