"""Public tests of name_classifier: the encoding by hand, the model against torch's own RNNCell and Linear with the
same weights, and one training step against torch's SGD.

Read them to see how your code is called: the grader makes your NameClassifier and your optimizer where your code
runs, loads weights into the model by the parameters' names, and calls forward and train_step on batches it
encodes itself. The hidden tests do the same on the course's names, then train your model with your train_step and
score its accuracy on names it never saw.
"""

import string

import pytest
import torch

ALPHABET = string.ascii_letters + " .,;'"
A = len(ALPHABET)
NAMES = ["Gottfried", "Ito", "O'Brien", "Li"]


def one_hot(names):
    """x (T, B, A) zero-padded after each name, lengths (B,): the contract's encoding of a batch."""
    lengths = torch.tensor([len(name) for name in names])
    x = torch.zeros(int(lengths.max()), len(names), A)
    for b, name in enumerate(names):
        for t, letter in enumerate(name):
            x[t, b, ALPHABET.index(letter)] = 1.0
    return x, lengths


class TorchModel(torch.nn.Module):
    """What the lecture builds, to compare with: an RNNCell run over each name on its own, from a zero state."""

    def __init__(self, hidden_size, output_size):
        super().__init__()
        self.rnn = torch.nn.RNNCell(A, hidden_size)
        self.fc = torch.nn.Linear(hidden_size, output_size)

    def forward(self, x, lengths):
        rows = []
        for b, length in enumerate(lengths.tolist()):
            h = torch.zeros(1, self.rnn.hidden_size)
            for t in range(length):
                h = self.rnn(x[t, b : b + 1], h)
            rows.append(torch.log_softmax(self.fc(h), dim=1))
        return torch.cat(rows)


def torch_model(rng, hidden_size, output_size):
    model = TorchModel(hidden_size, output_size)
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(0.4 * torch.randn(p.shape, generator=rng))
    return model, {name: p.detach().clone() for name, p in model.named_parameters()}


@pytest.mark.task("encoding")
def test_the_alphabet(grade):
    assert grade.constant("ALPHABET") == ALPHABET, "ALPHABET should be string.ascii_letters + \" .,;'\""


@pytest.mark.task("encoding")
def test_encode_name(grade):
    expected = torch.zeros(3, A)
    expected[0, ALPHABET.index("A")] = expected[1, ALPHABET.index("b")] = expected[2, ALPHABET.index("'")] = 1.0
    grade.expect("encode_name", "Ab'", expected=expected)


@pytest.mark.task("encoding")
def test_encode_batch_pads_after_each_name(grade):
    grade.expect("encode_batch", NAMES, expected=one_hot(NAMES))


@pytest.mark.task("model")
def test_the_parameters_have_the_contracts_names_and_shapes(grade):
    def shapes(side):
        model = side.make("NameClassifier", A, 8, 3)
        return {name: tuple(p.shape) for name, p in side.read_parameters(model).items()}

    expected = {
        "rnn.weight_ih": (8, A),
        "rnn.weight_hh": (8, 8),
        "rnn.bias_ih": (8,),
        "rnn.bias_hh": (8,),
        "fc.weight": (3, 8),
        "fc.bias": (3,),
    }
    grade.scenario("NameClassifier", shapes, A, 8, 3, expected=expected)


@pytest.mark.task("model")
def test_forward_matches_torch_name_by_name(grade, rng):
    model, weights = torch_model(rng, 6, 4)
    x, lengths = one_hot(NAMES)
    with torch.no_grad():
        expected = model(x, lengths)

    def forward(side):
        mine = side.make("NameClassifier", A, 6, 4)
        side.load_parameters(mine, weights)
        return side.method(mine, "forward", x, lengths)

    grade.scenario("NameClassifier", forward, x, lengths, expected=expected)


@pytest.mark.task("training")
def test_one_training_step_matches_torch(grade, rng):
    model, weights = torch_model(rng, 6, 4)
    x, lengths = one_hot(NAMES)
    labels = torch.tensor([0, 3, 1, 2])
    optimizer = torch.optim.SGD(model.parameters(), lr=0.2)
    loss = torch.nn.functional.nll_loss(model(x, lengths), labels)
    loss.backward()
    optimizer.step()
    expected = ([loss.item()], {name: p.detach().clone() for name, p in model.named_parameters()})

    def one_step(side):
        mine = side.make("NameClassifier", A, 6, 4)
        side.load_parameters(mine, weights)
        optimizer = side.make("make_optimizer", mine, 0.2)
        return [side.call("train_step", mine, optimizer, x, lengths, labels)], side.read_parameters(mine)

    grade.scenario("train_step", one_step, x, lengths, labels, expected=expected)


@pytest.mark.task("quality")
def test_training_on_one_batch_lowers_its_loss(grade):
    """A self-check of the whole loop: 40 steps on the same four names must fit them. The hidden test trains on the
    course's names and scores the accuracy on names held out."""
    x, lengths = one_hot(NAMES)
    labels = torch.tensor([0, 3, 1, 2])
    model = grade.make("NameClassifier", A, 16, 4, seed=0)
    optimizer = grade.make("make_optimizer", model, 0.3)
    losses = [grade.call("train_step", model, optimizer, x, lengths, labels) for _ in range(40)]
    assert all(isinstance(loss, float) for loss in losses), "train_step should return the loss as a Python float"
    assert losses[-1] < 0.5 * losses[0], f"40 steps on one batch took its loss from {losses[0]:.3f} to {losses[-1]:.3f}"
