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
