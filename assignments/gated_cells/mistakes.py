"""The classic mistakes of the GRU and LSTM cells, each a small patch of the reference."""

import torch

from grader.mistakes import Catalogue

catalogue = Catalogue()

# GRU

catalogue.add(
    "gru_reset_before_matmul",
    mistake="the reset gate multiplies h before the matmul, n = tanh(x W_in^T + b_in + (r * h) W_hn^T + b_hn), "
    "as Cho et al. and d2l write it",
    right="the lecture's eq. (3), which torch.nn.GRUCell computes, has "
    "n = tanh(x W_in^T + b_in + r * (h W_hn^T + b_hn))",
    replace={"r * (h_prev @ W_hn.T + b_hn)": "(r * h_prev) @ W_hn.T + b_hn"},
)

catalogue.add(
    "gru_update_flipped",
    mistake="the update gate is flipped, h' = (1 - z) * h + z * n",
    right="the lecture's eq. (4) has h' = z * h + (1 - z) * n, so z near 1 keeps the old state",
    replace={"h = z * h_prev + (1 - z) * n": "h = (1 - z) * h_prev + z * n"},
)

catalogue.add(
    "gru_gate_order_zrn",
    mistake="the weights' row blocks are read as z | r | n, the order Keras uses",
    right="the handout stacks the GRU's row blocks in PyTorch's order r | z | n, "
    "so rows 0..H-1 belong to the reset gate",
    replace={
        "W_ir, W_iz, W_in = W_ih.chunk(3)": "W_iz, W_ir, W_in = W_ih.chunk(3)",
        "W_hr, W_hz, W_hn = W_hh.chunk(3)": "W_hz, W_hr, W_hn = W_hh.chunk(3)",
        "b_ir, b_iz, b_in = b_ih.chunk(3)": "b_iz, b_ir, b_in = b_ih.chunk(3)",
        "b_hr, b_hz, b_hn = b_hh.chunk(3)": "b_hz, b_hr, b_hn = b_hh.chunk(3)",
    },
)

catalogue.add(
    "gru_hn_bias_outside_reset",
    mistake="b_hn is added outside the reset gate, n = tanh(x W_in^T + b_in + r * (h W_hn^T) + b_hn)",
    right="the lecture's eq. (3) has b_hn inside the reset gate's product, "
    "n = tanh(x W_in^T + b_in + r * (h W_hn^T + b_hn))",
    replace={"r * (h_prev @ W_hn.T + b_hn)": "r * (h_prev @ W_hn.T) + b_hn"},
)

# LSTM

catalogue.add(
    "lstm_gate_order_ifog",
    mistake="the weights' row blocks are read as i | f | o | g, as CS231n lays them out",
    right="the handout stacks the LSTM's row blocks in PyTorch's order i | f | g | o, "
    "so the cell candidate g is the third",
    replace={
        "W_ii, W_if, W_ig, W_io = W_ih.chunk(4)": "W_ii, W_if, W_io, W_ig = W_ih.chunk(4)",
        "W_hi, W_hf, W_hg, W_ho = W_hh.chunk(4)": "W_hi, W_hf, W_ho, W_hg = W_hh.chunk(4)",
        "b_ii, b_if, b_ig, b_io = b_ih.chunk(4)": "b_ii, b_if, b_io, b_ig = b_ih.chunk(4)",
        "b_hi, b_hf, b_hg, b_ho = b_hh.chunk(4)": "b_hi, b_hf, b_ho, b_hg = b_hh.chunk(4)",
    },
)

catalogue.add(
    "lstm_tanh_missing_on_cell",
    mistake="the tanh on the cell is left out, h = o * c",
    right="the lecture's eq. (10) has h = o * tanh(c)",
    replace={"h = o * torch.tanh(c)": "h = o * c"},
)

catalogue.add(
    "lstm_forget_input_swapped",
    mistake="the forget and input gates swap roles, c = i * c_prev + f * g",
    right="the lecture's eq. (9) has c = f * c_prev + i * g, the forget gate scaling the old cell",
    replace={"c = f * c_prev + i * g": "c = i * c_prev + f * g"},
)


@catalogue.replaces(
    "lstm_cell_state_not_carried",
    mistake="every step starts from the initial cell state c0 instead of the previous step's c",
    right="the lecture's eq. (9) uses the previous step's cell, (h_t, c_t) = lstm_cell(x_t, h_{t-1}, c_{t-1}) "
    "from (h_0, c_0) = (h0, c0)",
)
def lstm_forward(x, h0, c0, W_ih, W_hh, b_ih, b_hh):
    h, hs = h0, []
    for x_t in x:
        h, c = lstm_cell(x_t, h, c0, W_ih, W_hh, b_ih, b_hh)
        hs.append(h)
    return torch.stack(hs), (h, c)
