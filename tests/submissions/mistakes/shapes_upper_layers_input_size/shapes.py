"""Mistake: every layer's weight_ih takes input_size inputs, the layers above the first too."""
import numpy as np


def parameter_shapes(cell, input_size, hidden_size, num_layers=1, bidirectional=False, bias=True):
    if cell == "lstm":
        gates = 4
    elif cell == "gru":
        gates = 3
    else:
        gates = 1
    result = {}
    for l in range(num_layers):
        suffixes = ["", "_reverse"] if bidirectional else [""]
        for sfx in suffixes:
            result["weight_ih_l" + str(l) + sfx] = (gates * hidden_size, input_size)
            result["weight_hh_l" + str(l) + sfx] = (gates * hidden_size, hidden_size)
            if bias:
                result["bias_ih_l" + str(l) + sfx] = (gates * hidden_size,)
                result["bias_hh_l" + str(l) + sfx] = (gates * hidden_size,)
    return result


def parameter_count(cell, input_size, hidden_size, num_layers=1, bidirectional=False, bias=True):
    shapes = parameter_shapes(cell, input_size, hidden_size, num_layers, bidirectional, bias)
    return int(sum(int(np.prod(s)) for s in shapes.values()))


def output_shapes(cell, seq_len, batch, input_size, hidden_size, num_layers=1, bidirectional=False, batch_first=False):
    n_dir = 2 if bidirectional else 1
    x_shape = [seq_len, batch, input_size]
    y_shape = [seq_len, batch, n_dir * hidden_size]
    if batch_first:
        x_shape[0], x_shape[1] = x_shape[1], x_shape[0]
        y_shape[0], y_shape[1] = y_shape[1], y_shape[0]
    shapes = {"input": tuple(x_shape), "output": tuple(y_shape), "h_n": (num_layers * n_dir, batch, hidden_size)}
    if cell == "lstm":
        shapes["c_n"] = (num_layers * n_dir, batch, hidden_size)
    return shapes
