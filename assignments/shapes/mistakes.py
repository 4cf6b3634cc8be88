"""The classic mistakes of PyTorch's recurrent parameter and output shapes, each a small patch of the reference."""

from grader.mistakes import Catalogue

catalogue = Catalogue()

# parameter_shapes (and parameter_count, which adds them up)

catalogue.add(
    "shapes_lstm_gates_forgotten",
    mistake="the gate multiplier G is forgotten, so a GRU's or LSTM's weights are (H, D) and (H, H) as the RNN's",
    right="the handout's eqs. (1)-(4) stack the gates' row blocks, weight_ih_l<l> (G*H, D_l) with G = 3 for the GRU "
    "and 4 for the LSTM",
    replace={'G = {"rnn": 1, "gru": 3, "lstm": 4}[cell]': "G = 1"},
)

catalogue.add(
    "shapes_bidirectional_input_size",
    mistake="a layer above the first takes hidden_size inputs even when the network is bidirectional",
    right="the handout's eq. (2) has weight_ih_l<l> (G*H, num_directions*H) for l >= 1, as a layer reads both "
    "directions of the layer below",
    replace={"else num_directions * hidden_size": "else hidden_size"},
)

catalogue.add(
    "shapes_upper_layers_input_size",
    mistake="every layer takes input_size inputs, the layers above the first too",
    right="the handout's eq. (2) has weight_ih_l<l> (G*H, num_directions*H) for l >= 1, as only layer 0 reads x",
    replace={"layer_input = input_size if l == 0 else num_directions * hidden_size": "layer_input = input_size"},
)

catalogue.add(
    "shapes_bias_kept_without_bias",
    mistake="bias=False is ignored and the bias entries are kept",
    right="the handout's eq. (4) has no bias_ih_l<l> nor bias_hh_l<l> when bias=False",
    replace={"            if bias:\n": "            if True:\n"},
)

# parameter_count

catalogue.add(
    "shapes_count_one_bias",
    mistake="only one bias vector is counted per layer and direction",
    right="the handout's eq. (5) counts G*H*(D_l + H) + 2*G*H per layer and direction, bias_ih and bias_hh both",
    replace={
        "sum(math.prod(shape) for shape in shapes.values())": "sum(math.prod(shape) for name, shape in "
        'shapes.items() if not name.startswith("bias_hh"))'
    },
)

# output_shapes

catalogue.add(
    "shapes_output_not_doubled",
    mistake="the output keeps hidden_size features when the network is bidirectional",
    right="the table of section 3 has output (T, B, num_directions*H), both directions concatenated",
    replace={
        "output_shape = (batch, seq_len, num_directions * hidden_size)": "output_shape = (batch, seq_len, hidden_size)",
        "output_shape = (seq_len, batch, num_directions * hidden_size)": "output_shape = (seq_len, batch, hidden_size)",
    },
)

catalogue.add(
    "shapes_h_n_batch_first",
    mistake="h_n (and c_n) are laid out batch first when batch_first=True",
    right="the table of section 3 has h_n and c_n (num_layers*num_directions, B, H) always, batch_first or not",
    replace={
        "    h_n = (num_layers * num_directions, batch, hidden_size)": "    h_n = (batch, num_layers * num_directions, "
        "hidden_size) if batch_first else (num_layers * num_directions, batch, hidden_size)"
    },
)

# Variants: what students write instead of the mistakes above, each named as such.

catalogue.add(
    "shapes_candidate_not_counted",
    mistake="only the gates are counted as row blocks, not the candidate: G = 2 for the GRU (r, z) and 3 for the LSTM "
    "(i, f, o)",
    right="the candidate has its own row block too: the handout's eqs. (1)-(4) stack G = 3 blocks for the GRU (r | z "
    "| n) and 4 for the LSTM (i | f | g | o)",
    replace={'G = {"rnn": 1, "gru": 3, "lstm": 4}[cell]': 'G = {"rnn": 1, "gru": 2, "lstm": 3}[cell]'},
)

catalogue.add(
    "shapes_gate_counts_swapped",
    mistake="the GRU is given the LSTM's four row blocks and the LSTM the GRU's three",
    right="the GRU stacks G = 3 blocks (r | z | n) and the LSTM G = 4 (i | f | g | o) (the handout's eqs. (1)-(4))",
    replace={'G = {"rnn": 1, "gru": 3, "lstm": 4}[cell]': 'G = {"rnn": 1, "gru": 4, "lstm": 3}[cell]'},
)

catalogue.add(
    "shapes_weights_transposed",
    mistake="the weights are laid out (inputs, outputs), weight_ih_l<l> (D_l, G*H) and weight_hh_l<l> (H, G*H), as "
    "for x @ W",
    right="PyTorch stores a weight (outputs, inputs) and computes x @ W^T: the handout's eqs. (1)-(2) have "
    "weight_ih_l<l> (G*H, D_l) and weight_hh_l<l> (G*H, H)",
    replace={
        "(G * hidden_size, layer_input)": "(layer_input, G * hidden_size)",
        "(G * hidden_size, hidden_size)": "(hidden_size, G * hidden_size)",
    },
)

catalogue.add(
    "shapes_first_layer_input_doubled",
    mistake="the first layer of a bidirectional network takes num_directions * input_size inputs",
    right="both directions of layer 0 read the same x, so the handout's eq. (2) has weight_ih_l0 (G*H, D) with or "
    "without bidirectional; only the layers above read num_directions*H",
    replace={"layer_input = input_size if l == 0": "layer_input = num_directions * input_size if l == 0"},
)

catalogue.add(
    "shapes_single_bias_entry",
    mistake="each layer and direction gets one bias, bias_ih_l<l>, and no bias_hh_l<l>",
    right="PyTorch keeps two bias vectors per layer and direction, so the handout's eq. (4) has both "
    "bias_ih_l<l> (G*H,) and bias_hh_l<l> (G*H,)",
    replace={'                shapes[f"bias_hh_l{l}{suffix}"] = (G * hidden_size,)\n': ""},
)

catalogue.add(
    "shapes_count_sums_dimensions",
    mistake="each parameter's size is the sum of its dimensions instead of their product",
    right="a (rows, columns) tensor holds rows * columns scalars: the handout's eq. (5) counts G*H*(D_l + H) "
    "+ 2*G*H per layer and direction, the products of the shapes added up",
    replace={
        "sum(math.prod(shape) for shape in shapes.values())": "sum(sum(shape) for shape in shapes.values())",
    },
)

catalogue.add(
    "shapes_count_tensors",
    mistake="the parameter tensors are counted instead of their scalar entries",
    right="parameter_count is the number of scalars, sum(p.numel() for p in module.parameters()): the handout's "
    "eq. (5) counts G*H*(D_l + H) + 2*G*H per layer and direction",
    replace={"sum(math.prod(shape) for shape in shapes.values())": "len(shapes)"},
)

# output_shapes

catalogue.add(
    "shapes_batch_first_ignored",
    mistake="batch_first is ignored: the input and the output are (T, B, ...) always",
    right="the table of section 3 has input (B, T, D) and output (B, T, num_directions*H) when batch_first=True",
    replace={"    if batch_first:\n        input_shape": "    if False:\n        input_shape"},
)

catalogue.add(
    "shapes_h_n_layers_forgotten",
    mistake="h_n (and c_n) count the directions but not the layers, (num_directions, B, H)",
    right="the table of section 3 has h_n and c_n (num_layers*num_directions, B, H): one final state per layer and "
    "direction",
    replace={
        "    h_n = (num_layers * num_directions, batch, hidden_size)": "    h_n = (num_directions, batch, hidden_size)"
    },
)

catalogue.add(
    "shapes_h_n_directions_concatenated",
    mistake="h_n (and c_n) concatenate the directions as the output does, (num_layers, B, num_directions*H)",
    right="the table of section 3 keeps each direction's final state apart: h_n and c_n are "
    "(num_layers*num_directions, B, H); only the output concatenates the directions",
    replace={
        "    h_n = (num_layers * num_directions, batch, hidden_size)": (
            "    h_n = (num_layers, batch, num_directions * hidden_size)"
        )
    },
)

catalogue.add(
    "shapes_c_n_for_every_gated_cell",
    mistake="the GRU is given a cell state c_n too",
    right="only the LSTM has a cell state: the table of section 3 has c_n for the LSTM alone, and the GRU returns "
    "h_n only, as the RNN does",
    replace={'    if cell == "lstm":\n        shapes["c_n"]': '    if cell != "rnn":\n        shapes["c_n"]'},
)
