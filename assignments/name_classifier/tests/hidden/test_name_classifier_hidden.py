"""Hidden tests of name_classifier: the mechanics against the reference (exact and fast), then the quality of the
student's own training, on the course's held-out names.

Mechanics: with the same weights loaded into the student's model and the reference's, forward and two training
steps must agree. Quality: the student's model, seeded, is trained by the student's ``train_step`` for ``STEPS``
batches of the training names drawn here; the held-out names go in without their labels, and the accuracy of the
predictions that come back is scored here against ``[quality.accuracy]`` (``grader calibrate name_classifier``).
"""

import math
import string

import pytest
import torch

ALPHABET = string.ascii_letters + " .,;'"
A = len(ALPHABET)
H = 64
STEPS = 400
BATCH = 32
LEARNING_RATE = 0.2
PREDICT_CHUNK = 512
"""The quality test's budget: 12,800 names. The batched reference reaches ~36 % (chance is ~9 %) in about a second
of one core; a correct loop over the names one by one takes ~10 s, of the test's 60. A smaller learning rate
would learn less in the budget, a larger one (0.5) diverges on some seeds: 0.2 keeps the seeds' spread small."""


def one_hot(names, padding=0):
    """The contract's encoding of a batch, worked out here (the student's encode_batch is graded on its own):
    x (T, B, A) zero-padded, with ``padding`` extra steps of zeros; lengths (B,) int64."""
    lengths = torch.tensor([len(name) for name in names])
    x = torch.zeros(int(lengths.max()) + padding, len(names), A)
    for b, name in enumerate(names):
        for t, letter in enumerate(name):
            x[t, b, ALPHABET.index(letter)] = 1.0
    return x, lengths


def some_names(dataset, rng, count):
    """``count`` training names drawn with ``rng``, and their labels."""
    picks = torch.randint(len(dataset.train_inputs), (count,), generator=rng).tolist()
    return [dataset.train_inputs[i] for i in picks], torch.tensor([dataset.train_labels[i] for i in picks])


def random_weights(rng, C):
    """Weights in the contract's names and shapes, of the size torch's own initialisation gives."""
    scale = H**-0.5

    def r(*shape):
        return scale * (2 * torch.rand(*shape, generator=rng) - 1)

    return {
        "rnn.weight_ih": r(H, A),
        "rnn.weight_hh": r(H, H),
        "rnn.bias_ih": r(H),
        "rnn.bias_hh": r(H),
        "fc.weight": r(C, H),
        "fc.bias": r(C),
    }


@pytest.mark.task("encoding")
def test_the_alphabet(grade):
    alphabet = grade.constant("ALPHABET")
    assert alphabet == ALPHABET, f"ALPHABET should be string.ascii_letters + \" .,;'\" ({A} letters), got {alphabet!r}"


@pytest.mark.task("encoding")
@pytest.mark.parametrize("count", [1, 6])
def test_encode_name(grade, dataset, rng, count):
    names, _ = some_names(dataset, rng, count)
    for name in [*names, "O'Neil", "Abe", "zz"]:
        grade.compare("encode_name", name)


@pytest.mark.task("encoding")
@pytest.mark.parametrize("count", [1, 2, 9])
def test_encode_batch(grade, dataset, rng, count):
    names, _ = some_names(dataset, rng, count)
    grade.compare("encode_batch", names)


@pytest.mark.task("model")
@pytest.mark.parametrize("size", [(A, 8, 3), (A, H, 15), (5, 2, 4)])
def test_parameter_names_and_shapes(grade, size):
    def shapes(side):
        model = side.make("NameClassifier", *size, seed=0)
        return {name: tuple(p.shape) for name, p in side.read_parameters(model).items()}

    grade.scenario("NameClassifier", shapes, *size)


@pytest.mark.task("model")
@pytest.mark.parametrize(("count", "padding"), [(1, 0), (7, 0), (12, 3)])
def test_forward_with_the_references_weights(grade, dataset, rng, count, padding):
    C = len(dataset.classes)
    weights = random_weights(rng, C)
    names, _ = some_names(dataset, rng, count)
    x, lengths = one_hot(names, padding)

    def forward(side):
        model = side.make("NameClassifier", A, H, C, seed=1)
        side.load_parameters(model, weights)
        return side.method(model, "forward", x, lengths)

    grade.scenario("NameClassifier", forward, x, lengths)


@pytest.mark.task("model")
def test_every_batch_starts_from_a_zero_state(grade, dataset, rng):
    C = len(dataset.classes)
    weights = random_weights(rng, C)
    batches = [one_hot(some_names(dataset, rng, 5)[0]) for _ in range(3)]

    def forward_three_batches(side):
        model = side.make("NameClassifier", A, H, C, seed=1)
        side.load_parameters(model, weights)
        return [side.method(model, "forward", x, lengths) for x, lengths in batches]

    grade.scenario("NameClassifier", forward_three_batches, *batches[0])


@pytest.mark.task("training")
@pytest.mark.parametrize("learning_rate", [0.1, 0.5])
def test_two_training_steps(grade, dataset, rng, learning_rate):
    C = len(dataset.classes)
    weights = random_weights(rng, C)
    batches = []
    for count in (8, 5):
        names, labels = some_names(dataset, rng, count)
        batches.append((*one_hot(names), labels))

    def two_steps(side):
        model = side.make("NameClassifier", A, H, C, seed=2)
        side.load_parameters(model, weights)
        optimizer = side.make("make_optimizer", model, learning_rate)
        losses = [side.call("train_step", model, optimizer, *batch) for batch in batches]
        return losses, side.read_parameters(model)

    grade.scenario("train_step", two_steps, *batches[0])


def as_number(loss):
    """A returned loss as a float (the training test checks its type; here only the curve matters), NaN if none."""
    try:
        return float(loss)
    except (TypeError, ValueError, RuntimeError):
        return math.nan


def what_the_curve_says(losses, predictions, classes):
    """The loss curve and the predictions in the student's words, where they explain a poor accuracy."""
    chance = math.log(len(classes))
    losses = [as_number(loss) for loss in losses]
    finite = [loss for loss in losses if math.isfinite(loss)]
    if len(finite) < len(losses):
        first = next(i for i, loss in enumerate(losses) if not math.isfinite(loss))
        return (
            f"The loss train_step returned was not a finite number from step {first + 1} on (NaN or infinite): the "
            "updates blew up (the sign or size of the learning rate, or a log of 0)"
        )
    start, end = sum(finite[:25]) / 25, sum(finite[-50:]) / 50
    said = []
    if end >= 0.95 * chance and end <= 1.05 * chance:
        said.append(
            f"The loss stayed near ln C = {chance:.2f}, what guessing every nationality equally scores: the model did "
            "not learn (are the gradients zeroed, do they reach the parameters, does the step go downhill?)"
        )
    elif end > start:
        said.append(f"The loss grew from {start:.2f} to {end:.2f} while training: the updates go uphill")
    counts = torch.bincount(predictions, minlength=len(classes))
    if int(counts.max()) == len(predictions):
        said.append(f"Every held-out name was predicted {classes[int(counts.argmax())]}")
    return ". ".join(said)


@pytest.mark.task("quality")
def test_the_trained_model_tells_held_out_names_apart(grade, dataset, case_seed):
    C = len(dataset.classes)
    rng = torch.Generator().manual_seed(case_seed)
    model = grade.make("NameClassifier", A, H, C, seed=case_seed % 2**31)
    optimizer = grade.make("make_optimizer", model, LEARNING_RATE)
    losses = []
    for _ in range(STEPS):
        names, labels = some_names(dataset, rng, BATCH)
        losses.append(as_number(grade.call("train_step", model, optimizer, *one_hot(names), labels)))
    order = torch.randperm(len(dataset.test_inputs), generator=rng).tolist()  # an order that says nothing
    held_out = [dataset.test_inputs[i] for i in order]
    predictions = []
    for start in range(0, len(held_out), PREDICT_CHUNK):
        names = held_out[start : start + PREDICT_CHUNK]
        log_probs = grade.method(model, "forward", *one_hot(names))
        shape = tuple(log_probs.shape) if isinstance(log_probs, torch.Tensor) else type(log_probs).__name__
        assert shape == (len(names), C), f"forward should return log-probabilities ({len(names)}, {C}), got {shape}"
        predictions.append(torch.nan_to_num(log_probs.float(), nan=-math.inf).argmax(dim=1))
    predicted = torch.cat(predictions)
    truth = torch.tensor([dataset.test_labels[i] for i in order])
    accuracy = float((predicted == truth).float().mean())
    baseline = float(torch.bincount(truth).max()) / len(truth)
    why = what_the_curve_says(losses, predicted, dataset.classes)
    grade.quality("train_step", "accuracy", accuracy, baseline, "the accuracy on the held-out names", why)
