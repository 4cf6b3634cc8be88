"""Mistake: h_n (and c_n) are laid out batch first when batch_first=True."""


def parameter_shapes(cell, input_size, hidden_size, num_layers=1, bidirectional=False, bias=True):
    G = {"rnn": 1, "gru": 3, "lstm": 4}[cell]
    num_dir = 2 if bidirectional else 1
    params = {}
    for layer in range(num_layers):
        layer_in = input_size if layer == 0 else num_dir * hidden_size
        for direction in range(num_dir):
            suffix = f"l{layer}_reverse" if direction else f"l{layer}"
            params[f"weight_ih_{suffix}"] = (G * hidden_size, layer_in)
            params[f"weight_hh_{suffix}"] = (G * hidden_size, hidden_size)
            if bias:
                params[f"bias_ih_{suffix}"] = (G * hidden_size,)
                params[f"bias_hh_{suffix}"] = (G * hidden_size,)
    return params


def parameter_count(cell, input_size, hidden_size, num_layers=1, bidirectional=False, bias=True):
    n = 0
    for shape in parameter_shapes(cell, input_size, hidden_size, num_layers, bidirectional, bias).values():
        n += shape[0] * shape[1] if len(shape) == 2 else shape[0]
    return n


def output_shapes(cell, seq_len, batch, input_size, hidden_size, num_layers=1, bidirectional=False, batch_first=False):
    num_dir = 2 if bidirectional else 1
    stack = num_layers * num_dir
    if batch_first:
        # with batch_first every tensor has the batch in front
        shapes = {
            "input": (batch, seq_len, input_size),
            "output": (batch, seq_len, num_dir * hidden_size),
            "h_n": (batch, stack, hidden_size),
        }
    else:
        shapes = {
            "input": (seq_len, batch, input_size),
            "output": (seq_len, batch, num_dir * hidden_size),
            "h_n": (stack, batch, hidden_size),
        }
    if cell == "lstm":
        shapes["c_n"] = shapes["h_n"]
    return shapes
