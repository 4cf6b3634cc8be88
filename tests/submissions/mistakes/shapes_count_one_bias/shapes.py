"""Mistake: parameter_count counts one bias vector per layer and direction instead of two (bias_ih and bias_hh)."""


def parameter_shapes(cell, input_size, hidden_size, num_layers=1, bidirectional=False, bias=True):
    G = {"rnn": 1, "gru": 3, "lstm": 4}[cell]
    out = {}
    for layer in range(num_layers):
        D_l = input_size if layer == 0 else (2 if bidirectional else 1) * hidden_size
        for rev in ([False, True] if bidirectional else [False]):
            end = "_reverse" if rev else ""
            out[f"weight_ih_l{layer}{end}"] = (G * hidden_size, D_l)
            out[f"weight_hh_l{layer}{end}"] = (G * hidden_size, hidden_size)
            if bias:
                out[f"bias_ih_l{layer}{end}"] = (G * hidden_size,)
                out[f"bias_hh_l{layer}{end}"] = (G * hidden_size,)
    return out


def parameter_count(cell, input_size, hidden_size, num_layers=1, bidirectional=False, bias=True):
    # worked out with the formula: per layer and direction G*H*(D_l + H) weights, plus the bias G*H
    G = {"rnn": 1, "gru": 3, "lstm": 4}[cell]
    dirs = 2 if bidirectional else 1
    H = hidden_size
    total = 0
    for layer in range(num_layers):
        D_l = input_size if layer == 0 else dirs * H
        per_direction = G * H * (D_l + H)
        if bias:
            per_direction += G * H
        total += dirs * per_direction
    return total


def output_shapes(cell, seq_len, batch, input_size, hidden_size, num_layers=1, bidirectional=False, batch_first=False):
    dirs = 2 if bidirectional else 1
    T, B = seq_len, batch
    shapes = {
        "input": (B, T, input_size) if batch_first else (T, B, input_size),
        "output": (B, T, dirs * hidden_size) if batch_first else (T, B, dirs * hidden_size),
        "h_n": (num_layers * dirs, B, hidden_size),
    }
    if cell == "lstm":
        shapes["c_n"] = shapes["h_n"]
    return shapes
