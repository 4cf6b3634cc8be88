"""A student's shapes that lays each weight out (inputs, outputs), as for x @ W."""

GATE_BLOCKS = {"rnn": 1, "gru": 3, "lstm": 4}  # r|z|n for the GRU, i|f|g|o for the LSTM


def _names(num_layers, bidirectional, bias):
    kinds = ("weight_ih", "weight_hh", "bias_ih", "bias_hh") if bias else ("weight_ih", "weight_hh")
    for layer in range(num_layers):
        for suffix in ("", "_reverse") if bidirectional else ("",):
            for kind in kinds:
                yield layer, kind, f"{kind}_l{layer}{suffix}"


def parameter_shapes(cell, input_size, hidden_size, num_layers=1, bidirectional=False, bias=True):
    rows = GATE_BLOCKS[cell] * hidden_size
    below = (2 if bidirectional else 1) * hidden_size  # what a layer above the first reads
    shapes = {}
    for layer, kind, name in _names(num_layers, bidirectional, bias):
        if kind == "weight_ih":
            shapes[name] = (input_size if layer == 0 else below, rows)
        elif kind == "weight_hh":
            shapes[name] = (hidden_size, rows)
        else:
            shapes[name] = (rows,)
    return shapes


def parameter_count(cell, input_size, hidden_size, num_layers=1, bidirectional=False, bias=True):
    G, H = GATE_BLOCKS[cell], hidden_size
    dirs = 2 if bidirectional else 1
    per_direction_bias = 2 * G * H if bias else 0
    first = G * H * (input_size + H) + per_direction_bias
    upper = G * H * (dirs * H + H) + per_direction_bias
    return dirs * (first + (num_layers - 1) * upper)


def output_shapes(cell, seq_len, batch, input_size, hidden_size, num_layers=1, bidirectional=False, batch_first=False):
    dirs = 2 if bidirectional else 1
    order = [1, 0, 2] if batch_first else [0, 1, 2]
    time_major_input = (seq_len, batch, input_size)
    time_major_output = (seq_len, batch, dirs * hidden_size)
    shapes = {
        "input": tuple(time_major_input[i] for i in order),
        "output": tuple(time_major_output[i] for i in order),
        "h_n": (num_layers * dirs, batch, hidden_size),
    }
    if cell == "lstm":
        shapes["c_n"] = tuple(shapes["h_n"])
    return shapes
