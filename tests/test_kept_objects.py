"""Objects of the student's across the boundary: made, called and read by handle, the same in the sandbox as in
the grader's own process (trusted code), and never more than plain data on the grader's side."""

from pathlib import Path

import pytest
import torch

from grader.feedback import GradingFailure
from grader.limits import Limits
from grader.sandbox.inside.wire import Unsupported
from grader.sandbox.session import SandboxedStudent, SubmissionSession
from grader.student import Kept, LocalStudent

SOURCE = '''
import torch
from torch import nn


class Tiny(nn.Module):
    def __init__(self, n_in, n_out):
        super().__init__()
        self.fc = nn.Linear(n_in, n_out)

    def forward(self, x):
        return self.fc(x)

    def lost(self):
        raise ValueError("lost my way")


def make_optimizer(model, lr):
    return torch.optim.SGD(model.parameters(), lr=lr)


def step(model, optimizer, x, y):
    optimizer.zero_grad()
    loss = ((model(x) - y) ** 2).mean()
    loss.backward()
    optimizer.step()
    return loss.item()


def noise():
    return torch.rand(3)
'''

HOSTILE = '''
import torch
from torch import nn


class Tiny(nn.Module):
    def __init__(self, n_in, n_out):
        super().__init__()
        self.fc = nn.Linear(n_in, n_out + 1)

    def named_parameters(self, *args, **kwargs):
        yield "fc.weight", object()

    def forward(self, x):
        return object()
'''


@pytest.fixture(scope="module")
def sandboxed():
    session = SubmissionSession({"tiny": SOURCE, "hostile": HOSTILE}, {}, Limits())
    yield lambda name: SandboxedStudent(session, name, {})
    session.close()


@pytest.fixture
def local(tmp_path: Path):
    path = tmp_path / "tiny.py"
    path.write_text(SOURCE)
    return LocalStudent(path)


def both(sandboxed, local):
    student = sandboxed("tiny")
    student.start_test(30)
    local.start_test(30)
    return [student, local]


def test_a_model_is_made_loaded_called_and_trained_by_handle_alike_in_the_sandbox_and_in_process(sandboxed, local):
    weights = {"fc.weight": torch.tensor([[1.0, -2.0]]), "fc.bias": torch.tensor([0.5])}
    x, y = torch.tensor([[1.0, 1.0], [2.0, 0.0]]), torch.tensor([[0.0], [1.0]])
    results = []
    for student in both(sandboxed, local):
        model = student.call("Tiny", 2, 1, keep=True, seed=3).value
        assert isinstance(model, Kept) and model.made_by == "Tiny"
        shapes = {name: tuple(p.shape) for name, p in student.parameters(model).items()}
        student.load_parameters(model, weights)
        out = student.method(model, "forward", x).value
        optimizer = student.call("make_optimizer", model, 0.1, keep=True).value
        losses = [student.call("step", model, optimizer, x, y).value for _ in range(2)]
        results.append((shapes, out, losses, student.parameters(model)))
    (shapes, out, losses, after), (shapes2, out2, losses2, after2) = results
    assert shapes == shapes2 == {"fc.weight": (1, 2), "fc.bias": (1,)}
    assert torch.equal(out, out2) and torch.equal(out, torch.tensor([[-0.5], [2.5]]))
    assert losses == losses2 and losses[1] < losses[0]
    assert all(torch.equal(after[k], after2[k]) for k in after)
    assert not torch.equal(after["fc.weight"], weights["fc.weight"])


def test_a_seed_makes_the_same_model_on_both_sides(sandboxed, local):
    made = []
    for student in both(sandboxed, local):
        model = student.call("Tiny", 4, 3, keep=True, seed=11).value
        made.append(student.parameters(model))
        assert torch.equal(student.call("noise", seed=5).value, student.call("noise", seed=5).value)
    assert all(torch.equal(made[0][k], made[1][k]) for k in made[0])


def test_loading_the_wrong_parameters_names_them(sandboxed, local):
    for student in both(sandboxed, local):
        model = student.call("Tiny", 2, 1, keep=True).value
        with pytest.raises(GradingFailure) as failure:
            student.load_parameters(model, {"fc.weight": torch.zeros(1, 3), "fc.bias": torch.zeros(1)})
        assert failure.value.feedback.kind == "signature"
        assert "fc.weight (1, 2)" in failure.value.feedback.message


def test_a_method_that_raises_is_the_students_failure(sandboxed, local):
    for student in both(sandboxed, local):
        model = student.call("Tiny", 2, 1, keep=True).value
        with pytest.raises(GradingFailure) as failure:
            student.method(model, "lost")
        assert failure.value.feedback.kind == "exception" and "lost my way" in failure.value.feedback.message
        with pytest.raises(GradingFailure) as failure:
            student.method(model, "no_such_method")
        assert failure.value.feedback.kind == "missing"


def test_objects_are_dropped_when_a_test_ends(sandboxed):
    student = sandboxed("tiny")
    student.start_test(30)
    model = student.call("Tiny", 2, 1, keep=True).value
    student.start_test(30)
    with pytest.raises(GradingFailure) as failure:
        student.parameters(model)
    assert "lost" in failure.value.feedback.message


def test_a_hostile_model_gives_the_grader_only_plain_data(sandboxed):
    student = sandboxed("hostile")
    student.start_test(30)
    model = student.call("Tiny", 2, 1, keep=True).value
    with pytest.raises(GradingFailure) as failure:  # its parameters are not tensors
        student.parameters(model)
    assert failure.value.feedback.kind == "exception"
    out = student.method(model, "forward", torch.zeros(1, 2)).value
    assert isinstance(out, Unsupported) and out.type_name == "object"  # what did not cross, by its type's name
    with pytest.raises(GradingFailure):
        student.load_parameters(model, {"fc.weight": torch.zeros(2, 2), "fc.bias": torch.zeros(2)})
