"""Graded tests of shapes: the student's shape tables against the reference, over random configurations.

The sizes are drawn so that every classic mix-up changes the answer: D is neither H nor 2H (a layer above
the first takes H, or 2H when bidirectional, never D), T != B (input/output layout) and B differs from the
number of layers times directions (h_n's layout, which batch_first does not change).
"""

import pytest
import torch

CELLS = ["rnn", "gru", "lstm"]


def randint(rng, low, high):
    """A random int in low..high inclusive."""
    return int(torch.randint(low, high + 1, (1,), generator=rng))


def input_and_hidden(rng):
    """(D, H) with D not in {H, 2H}."""
    H = randint(rng, 2, 12)
    D = randint(rng, 1, 30)
    while D in (H, 2 * H):
        D = randint(rng, 1, 30)
    return D, H


def sequence_and_batch(rng, layers_times_directions):
    """(T, B), distinct, with B != layers_times_directions."""
    T, B = randint(rng, 1, 40), randint(rng, 1, 16)
    while T == B or B == layers_times_directions:
        T, B = randint(rng, 1, 40), randint(rng, 1, 16)
    return T, B


pytestmark = pytest.mark.parametrize("cell", CELLS)


@pytest.mark.task("parameters")
@pytest.mark.parametrize("bias", [True, False], ids=["bias", "no_bias"])
@pytest.mark.parametrize("bidirectional", [False, True], ids=["unidirectional", "bidirectional"])
def test_parameter_shapes(grade, rng, cell, bidirectional, bias):
    for num_layers in (1, 2, randint(rng, 3, 5)):
        D, H = input_and_hidden(rng)
        grade.compare("parameter_shapes", cell, D, H, num_layers, bidirectional, bias)


@pytest.mark.task("parameters")
def test_parameter_shapes_defaults(grade, rng, cell):
    """num_layers=1, bidirectional=False, bias=True when left out."""
    D, H = input_and_hidden(rng)
    grade.compare("parameter_shapes", cell, D, H)


@pytest.mark.task("count")
@pytest.mark.parametrize(
    ("bidirectional", "bias"), [(False, True), (True, False)], ids=["unidirectional-bias", "bidirectional-no_bias"]
)
def test_parameter_count(grade, rng, cell, bidirectional, bias):
    for num_layers in (1, randint(rng, 2, 5)):
        D, H = input_and_hidden(rng)
        grade.compare("parameter_count", cell, D, H, num_layers, bidirectional, bias)
    D, H = input_and_hidden(rng)
    grade.compare("parameter_count", cell, D, H)


@pytest.mark.task("outputs")
@pytest.mark.parametrize("batch_first", [False, True], ids=["time_major", "batch_first"])
@pytest.mark.parametrize("bidirectional", [False, True], ids=["unidirectional", "bidirectional"])
def test_output_shapes(grade, rng, cell, bidirectional, batch_first):
    num_layers = randint(rng, 1, 4)
    T, B = sequence_and_batch(rng, num_layers * (2 if bidirectional else 1))
    D, H = input_and_hidden(rng)
    grade.compare("output_shapes", cell, T, B, D, H, num_layers, bidirectional, batch_first)


@pytest.mark.task("outputs")
def test_output_shapes_defaults(grade, rng, cell):
    """num_layers=1, bidirectional=False, batch_first=False when left out."""
    T, B = sequence_and_batch(rng, 1)
    D, H = input_and_hidden(rng)
    grade.compare("output_shapes", cell, T, B, D, H)
