"""Mistake: a layer above the first takes hidden_size inputs even when the network is bidirectional."""

GATES = {"rnn": 1, "gru": 3, "lstm": 4}


def parameter_shapes(cell, input_size, hidden_size, num_layers=1, bidirectional=False, bias=True):
    rows = GATES[cell] * hidden_size
    names = ["weight_ih", "weight_hh"] + (["bias_ih", "bias_hh"] if bias else [])
    shapes = {}
    for layer in range(num_layers):
        # layer 0 reads x, the others read the hidden state of the layer below
        in_size = hidden_size if layer > 0 else input_size
        for suffix in ("", "_reverse") if bidirectional else ("",):
            for name in names:
                key = f"{name}_l{layer}{suffix}"
                if name == "weight_ih":
                    shapes[key] = (rows, in_size)
                elif name == "weight_hh":
                    shapes[key] = (rows, hidden_size)
                else:
                    shapes[key] = (rows,)
    return shapes


def parameter_count(cell, input_size, hidden_size, num_layers=1, bidirectional=False, bias=True):
    count = 0
    for shape in parameter_shapes(cell, input_size, hidden_size, num_layers, bidirectional, bias).values():
        count += shape[0] * (shape[1] if len(shape) == 2 else 1)
    return count


def output_shapes(cell, seq_len, batch, input_size, hidden_size, num_layers=1, bidirectional=False, batch_first=False):
    dirs = 2 if bidirectional else 1
    lead = (batch, seq_len) if batch_first else (seq_len, batch)
    out = {
        "input": lead + (input_size,),
        "output": lead + (dirs * hidden_size,),
        "h_n": (num_layers * dirs, batch, hidden_size),
    }
    if cell == "lstm":
        out["c_n"] = out["h_n"]
    return out
