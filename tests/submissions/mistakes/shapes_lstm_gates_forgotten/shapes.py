"""Mistake: the gate multiplier is forgotten: a GRU's or LSTM's weights are (H, D) and (H, H), as for the plain RNN."""


def parameter_shapes(cell, input_size, hidden_size, num_layers=1, bidirectional=False, bias=True):
    if cell not in ("rnn", "gru", "lstm"):
        raise ValueError(cell)
    table = {}
    directions = ["", "_reverse"] if bidirectional else [""]
    for layer in range(num_layers):
        in_features = input_size if layer == 0 else hidden_size * len(directions)
        for d in directions:
            table["weight_ih_l%d%s" % (layer, d)] = (hidden_size, in_features)
            table["weight_hh_l%d%s" % (layer, d)] = (hidden_size, hidden_size)
            if bias:
                table["bias_ih_l%d%s" % (layer, d)] = (hidden_size,)
                table["bias_hh_l%d%s" % (layer, d)] = (hidden_size,)
    return table


def parameter_count(cell, input_size, hidden_size, num_layers=1, bidirectional=False, bias=True):
    total = 0
    for shape in parameter_shapes(cell, input_size, hidden_size, num_layers, bidirectional, bias).values():
        n = 1
        for s in shape:
            n *= s
        total += n
    return total


def output_shapes(cell, seq_len, batch, input_size, hidden_size, num_layers=1, bidirectional=False, batch_first=False):
    D = 2 if bidirectional else 1
    if batch_first:
        result = {"input": (batch, seq_len, input_size), "output": (batch, seq_len, D * hidden_size)}
    else:
        result = {"input": (seq_len, batch, input_size), "output": (seq_len, batch, D * hidden_size)}
    result["h_n"] = (D * num_layers, batch, hidden_size)
    if cell == "lstm":
        result["c_n"] = (D * num_layers, batch, hidden_size)
    return result
