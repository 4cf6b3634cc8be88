"""Mistake: the output keeps hidden_size features when the network is bidirectional, instead of 2 * hidden_size."""
import math


def parameter_shapes(cell, input_size, hidden_size, num_layers=1, bidirectional=False, bias=True):
    multiplier = dict(rnn=1, gru=3, lstm=4)[cell]
    gh = multiplier * hidden_size
    nd = 2 if bidirectional else 1
    d = {}
    for k in range(num_layers):
        fan_in = input_size if k == 0 else nd * hidden_size
        for name_end in ("", "_reverse")[:nd]:
            d["weight_ih_l{}{}".format(k, name_end)] = (gh, fan_in)
            d["weight_hh_l{}{}".format(k, name_end)] = (gh, hidden_size)
            if bias:
                d["bias_ih_l{}{}".format(k, name_end)] = (gh,)
                d["bias_hh_l{}{}".format(k, name_end)] = (gh,)
    return d


def parameter_count(cell, input_size, hidden_size, num_layers=1, bidirectional=False, bias=True):
    shapes = parameter_shapes(cell, input_size, hidden_size, num_layers, bidirectional, bias)
    return sum(math.prod(s) for s in shapes.values())


def output_shapes(cell, seq_len, batch, input_size, hidden_size, num_layers=1, bidirectional=False, batch_first=False):
    nd = 2 if bidirectional else 1
    if batch_first:
        x = (batch, seq_len, input_size)
        y = (batch, seq_len, hidden_size)
    else:
        x = (seq_len, batch, input_size)
        y = (seq_len, batch, hidden_size)
    res = {"input": x, "output": y, "h_n": (nd * num_layers, batch, hidden_size)}
    if cell == "lstm":
        res["c_n"] = (nd * num_layers, batch, hidden_size)
    return res
