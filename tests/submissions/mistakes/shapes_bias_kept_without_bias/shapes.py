"""Mistake: bias=False is ignored, so the bias_ih and bias_hh entries are always listed."""


def gate_count(cell):
    return {"rnn": 1, "gru": 3, "lstm": 4}[cell]


def parameter_shapes(cell, input_size, hidden_size, num_layers=1, bidirectional=False, bias=True):
    G = gate_count(cell)
    directions = 2 if bidirectional else 1
    shapes = {}
    for layer in range(num_layers):
        for direction in range(directions):
            tail = f"l{layer}" + ("_reverse" if direction == 1 else "")
            fan_in = input_size if layer == 0 else directions * hidden_size
            shapes["weight_ih_" + tail] = (G * hidden_size, fan_in)
            shapes["weight_hh_" + tail] = (G * hidden_size, hidden_size)
            shapes["bias_ih_" + tail] = (G * hidden_size,)
            shapes["bias_hh_" + tail] = (G * hidden_size,)
    return shapes


def parameter_count(cell, input_size, hidden_size, num_layers=1, bidirectional=False, bias=True):
    total = 0
    for shape in parameter_shapes(cell, input_size, hidden_size, num_layers, bidirectional, bias).values():
        size = 1
        for dim in shape:
            size *= dim
        total += size
    return total


def output_shapes(cell, seq_len, batch, input_size, hidden_size, num_layers=1, bidirectional=False, batch_first=False):
    directions = 2 if bidirectional else 1
    if batch_first:
        inp = (batch, seq_len, input_size)
        out = (batch, seq_len, hidden_size * directions)
    else:
        inp = (seq_len, batch, input_size)
        out = (seq_len, batch, hidden_size * directions)
    state = (directions * num_layers, batch, hidden_size)
    shapes = {"input": inp, "output": out, "h_n": state}
    if cell == "lstm":
        shapes["c_n"] = state
    return shapes
