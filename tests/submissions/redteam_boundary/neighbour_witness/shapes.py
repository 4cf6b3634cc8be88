"""The parameter and tensor shapes of PyTorch's recurrent modules, worked out by hand.

torch.nn.RNN, torch.nn.GRU and torch.nn.LSTM(input_size, hidden_size, num_layers, bias, batch_first,
bidirectional=...) hold, for every layer l and direction (the backward direction's names end in
"_reverse"), the parameters weight_ih_l<l>, weight_hh_l<l>, bias_ih_l<l> and bias_hh_l<l>, with the
row blocks of a cell's gates stacked. Shapes are Python tuples of ints, e.g. (20, 3) or (20,).

Work the shapes out with arithmetic; build the torch modules only outside this file, to check yourself.
Mind the argument order below: it is not the order of torch.nn.LSTM's own arguments.
"""

import math


def parameter_shapes(
    cell: str, input_size: int, hidden_size: int, num_layers: int = 1, bidirectional: bool = False, bias: bool = True
) -> dict[str, tuple[int, ...]]:
    """The names and shapes of torch.nn.RNN / GRU / LSTM(...).named_parameters().

    cell is "rnn", "gru" or "lstm". Returns {name: shape tuple}, e.g. {"weight_ih_l0": (..., ...), ...}.
    """
    ### BEGIN SOLUTION
    G = {"rnn": 1, "gru": 3, "lstm": 4}[cell]  # row blocks: 1, r|z|n, i|f|g|o
    num_directions = 2 if bidirectional else 1
    suffixes = ["", "_reverse"][:num_directions]
    shapes = {}
    for l in range(num_layers):
        layer_input = input_size if l == 0 else num_directions * hidden_size  # the layer below's output size
        for suffix in suffixes:
            shapes[f"weight_ih_l{l}{suffix}"] = (G * hidden_size, layer_input)
            shapes[f"weight_hh_l{l}{suffix}"] = (G * hidden_size, hidden_size)
            if bias:
                shapes[f"bias_ih_l{l}{suffix}"] = (G * hidden_size,)
                shapes[f"bias_hh_l{l}{suffix}"] = (G * hidden_size,)
    return shapes
    ### END SOLUTION


def parameter_count(
    cell: str, input_size: int, hidden_size: int, num_layers: int = 1, bidirectional: bool = False, bias: bool = True
) -> int:
    """The number of scalar parameters of torch.nn.RNN / GRU / LSTM(...), as an int."""
    ### BEGIN SOLUTION
    shapes = parameter_shapes(cell, input_size, hidden_size, num_layers, bidirectional, bias)
    return sum(math.prod(shape) for shape in shapes.values())
    ### END SOLUTION


def output_shapes(
    cell: str,
    seq_len: int,
    batch: int,
    input_size: int,
    hidden_size: int,
    num_layers: int = 1,
    bidirectional: bool = False,
    batch_first: bool = False,
) -> dict[str, tuple[int, ...]]:
    """The shapes of a forward pass of torch.nn.RNN / GRU / LSTM(...), each a tuple.

    Returns {"input": ..., "output": ..., "h_n": ...}, plus "c_n" when cell is "lstm":
    the input the module expects, its output and its final hidden (and cell) state.
    """
    ### BEGIN SOLUTION
    num_directions = 2 if bidirectional else 1
    if batch_first:
        input_shape = (batch, seq_len, input_size)
        output_shape = (batch, seq_len, num_directions * hidden_size)
    else:
        input_shape = (seq_len, batch, input_size)
        output_shape = (seq_len, batch, num_directions * hidden_size)
    h_n = (num_layers * num_directions, batch, hidden_size)  # batch_first never applies to h_n
    shapes = {"input": input_shape, "output": output_shape, "h_n": h_n}
    if cell == "lstm":
        shapes["c_n"] = h_n
    return shapes
    ### END SOLUTION
