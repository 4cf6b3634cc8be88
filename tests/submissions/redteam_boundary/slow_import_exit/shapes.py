"""Red team, issue 11: a module whose import takes 3 s and each of whose functions ends the worker (os._exit(0)).

Every call costs a fresh worker and a 3 s import; the grader must stop calling each function after a few such
tests and say so ("was not run"), and finish in bounded time.
"""

import os
import time

time.sleep(3.0)


def parameter_shapes(cell, input_size, hidden_size, num_layers=1, bidirectional=False, bias=True):
    os._exit(0)


def parameter_count(cell, input_size, hidden_size, num_layers=1, bidirectional=False, bias=True):
    os._exit(0)


def output_shapes(cell, seq_len, batch, input_size, hidden_size, num_layers=1, bidirectional=False, batch_first=False):
    os._exit(0)
