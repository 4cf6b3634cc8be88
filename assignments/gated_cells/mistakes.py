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


# Variants: what students write instead of the mistakes above, each named as such.

catalogue.add(
    "gru_reset_gate_missing",
    mistake="the reset gate is left out of the candidate, n = tanh(x W_in^T + b_in + h W_hn^T + b_hn)",
    right="the lecture's eq. (3) scales the recurrent part of the candidate by the reset gate, "
    "n = tanh(x W_in^T + b_in + r * (h W_hn^T + b_hn))",
    replace={"r * (h_prev @ W_hn.T + b_hn)": "(h_prev @ W_hn.T + b_hn)"},
)

catalogue.add(
    "gru_reset_scales_input",
    mistake="the reset gate scales the whole pre-activation of the candidate, n = tanh(r * (x W_in^T + b_in + "
    "h W_hn^T + b_hn)), the input part too",
    right="the lecture's eq. (3) resets only the recurrent part, n = tanh(x W_in^T + b_in + r * (h W_hn^T + b_hn))",
    replace={
        "n = torch.tanh(x @ W_in.T + b_in + r * (h_prev @ W_hn.T + b_hn))": (
            "n = torch.tanh(r * (x @ W_in.T + b_in + h_prev @ W_hn.T + b_hn))"
        )
    },
)

catalogue.add(
    "gated_candidate_sigmoid",
    mistake="the candidate (n of the GRU, g of the LSTM) goes through a sigmoid instead of tanh",
    right="the gates are sigmoids, in (0, 1), but the candidate is a tanh, in (-1, 1): the lecture's eqs. (3) and (7) "
    "have n = tanh(...) and g = tanh(...)",
    replace={
        "n = torch.tanh(x @ W_in.T": "n = torch.sigmoid(x @ W_in.T",
        "g = torch.tanh(x @ W_ig.T": "g = torch.sigmoid(x @ W_ig.T",
    },
)

catalogue.add(
    "gated_recurrent_weights_not_transposed",
    mistake="the recurrent weights' blocks are used without the transpose, h W_hr, h W_hz, ... (they are square, so "
    "the products run, but they are the wrong ones)",
    right="every block of W_hh is (H, H) in PyTorch's layout and multiplies the row h_{t-1} transposed, as the "
    "blocks of W_ih do x: h W_hr^T, h W_hz^T, h W_hn^T (and h W_hi^T, ... for the LSTM)",
    replace={
        "h_prev @ W_hr.T": "h_prev @ W_hr",
        "h_prev @ W_hz.T": "h_prev @ W_hz",
        "h_prev @ W_hn.T": "h_prev @ W_hn",
        "h_prev @ W_hi.T": "h_prev @ W_hi",
        "h_prev @ W_hf.T": "h_prev @ W_hf",
        "h_prev @ W_hg.T": "h_prev @ W_hg",
        "h_prev @ W_ho.T": "h_prev @ W_ho",
    },
)

catalogue.add(
    "lstm_gate_order_igfo",
    mistake="the weights' row blocks are read as i | g | f | o, as TensorFlow 1's LSTMCell lays them out (i, j, f, o)",
    right="the handout stacks the LSTM's row blocks in PyTorch's order i | f | g | o, "
    "so the forget gate is the second block and the cell candidate g the third",
    replace={
        "W_ii, W_if, W_ig, W_io = W_ih.chunk(4)": "W_ii, W_ig, W_if, W_io = W_ih.chunk(4)",
        "W_hi, W_hf, W_hg, W_ho = W_hh.chunk(4)": "W_hi, W_hg, W_hf, W_ho = W_hh.chunk(4)",
        "b_ii, b_if, b_ig, b_io = b_ih.chunk(4)": "b_ii, b_ig, b_if, b_io = b_ih.chunk(4)",
        "b_hi, b_hf, b_hg, b_ho = b_hh.chunk(4)": "b_hi, b_hg, b_hf, b_ho = b_hh.chunk(4)",
    },
)

catalogue.add(
    "lstm_output_uses_previous_cell",
    mistake="the new state reads the previous cell, h = o * tanh(c_prev)",
    right="the lecture's eq. (10) reads the cell just updated by eq. (9): c = f * c_prev + i * g, then h = o * tanh(c)",
    replace={"h = o * torch.tanh(c)": "h = o * torch.tanh(c_prev)"},
)

catalogue.add(
    "lstm_coupled_gates",
    mistake="the cell mixes old and new with one gate, c = f * c_prev + (1 - f) * g, as a GRU mixes h and n",
    right="the LSTM has a separate input gate: the lecture's eq. (9) has c = f * c_prev + i * g",
    replace={"c = f * c_prev + i * g": "c = f * c_prev + (1 - f) * g"},
)


catalogue.add(
    "lstm_hidden_state_not_carried",
    mistake="every step starts from the initial state h0 instead of the previous step's h (the cell state is carried)",
    right="the lecture's recurrence feeds both states on, (h_t, c_t) = lstm_cell(x_t, h_{t-1}, c_{t-1}) "
    "from (h_0, c_0) = (h0, c0)",
    replace={
        "h, c = lstm_cell(x_t, h, c, W_ih, W_hh, b_ih, b_hh)": "h, c = lstm_cell(x_t, h0, c, W_ih, W_hh, b_ih, b_hh)"
    },
)

catalogue.add(
    "gru_state_not_carried",
    mistake="every step starts from h0 instead of the previous step's state",
    right="the GRU feeds each new state into the next step, h_t = gru_cell(x_t, h_{t-1}, ...), with h0 only at t = 1",
    replace={"h = gru_cell(x_t, h, W_ih, W_hh, b_ih, b_hh)": "h = gru_cell(x_t, h0, W_ih, W_hh, b_ih, b_hh)"},
)

catalogue.add(
    "gated_hs_shifted",
    mistake="each state is appended before the step that updates it, so hs holds h_0..h_{T-1}",
    right="hs holds the states the steps produce, h_1..h_T: compute the step first, then append its h, and hs[-1] is "
    "h_last",
    replace={
        "        h = gru_cell(x_t, h, W_ih, W_hh, b_ih, b_hh)\n        hs.append(h)": (
            "        hs.append(h)\n        h = gru_cell(x_t, h, W_ih, W_hh, b_ih, b_hh)"
        ),
        "        h, c = lstm_cell(x_t, h, c, W_ih, W_hh, b_ih, b_hh)\n        hs.append(h)": (
            "        hs.append(h)\n        h, c = lstm_cell(x_t, h, c, W_ih, W_hh, b_ih, b_hh)"
        ),
    },
)

catalogue.add(
    "gated_hs_includes_h0",
    mistake="hs starts with h0, so it holds h_0..h_T",
    right="hs holds h_1..h_T only, T states of shape (B, H), and h_last is hs[-1]",
    replace={
        "    h = h0\n    hs = []": "    h = h0\n    hs = [h0]",
        "    h, c = h0, c0\n    hs = []": "    h, c = h0, c0\n    hs = [h0]",
    },
)

catalogue.add(
    "lstm_hs_holds_cell_states",
    mistake="hs holds the cell states c_1..c_T instead of the hidden states",
    right="the LSTM's outputs are its hidden states, hs = [h_1, ..., h_T] as torch.nn.LSTM's output; the cell state "
    "comes out only as c_last",
    replace={
        "        h, c = lstm_cell(x_t, h, c, W_ih, W_hh, b_ih, b_hh)\n        hs.append(h)": (
            "        h, c = lstm_cell(x_t, h, c, W_ih, W_hh, b_ih, b_hh)\n        hs.append(c)"
        )
    },
)

catalogue.add(
    "lstm_final_state_swapped",
    mistake="the final states are returned as (c_last, h_last)",
    right="lstm_forward returns (hs, (h_last, c_last)), the hidden state first, as torch.nn.LSTM returns (h_n, c_n)",
    replace={"return torch.stack(hs), (h, c)": "return torch.stack(hs), (c, h)"},
)

# Right for small pre-activations, inf / inf = NaN once the exponential overflows (z above 44 in float32).
NAIVE_TANH = (
    "from torch import Tensor\n\n\ndef naive_tanh(z):\n    e = torch.exp(2 * z)\n    return (e - 1) / (e + 1)\n"
)
NAIVE_SIGMOID = "from torch import Tensor\n\n\ndef naive_sigmoid(z):\n    e = torch.exp(z)\n    return e / (1 + e)\n"

catalogue.add(
    "tanh_overflow",
    mistake="tanh is written as (e^(2z) - 1) / (e^(2z) + 1), which is inf / inf = NaN once e^(2z) overflows (a "
    "pre-activation above 44 in float32, 355 in float64)",
    right="use torch.tanh, which is exact for every z and saturates at ±1",
    replace={
        "from torch import Tensor\n": NAIVE_TANH,
        "n = torch.tanh(": "n = naive_tanh(",
        "g = torch.tanh(": "g = naive_tanh(",
        "h = o * torch.tanh(c)": "h = o * naive_tanh(c)",
    },
)

catalogue.add(
    "sigmoid_overflow",
    mistake="the gates' sigmoid is written as e^z / (1 + e^z), which is inf / inf = NaN once e^z overflows (a "
    "pre-activation above 88 in float32, 709 in float64)",
    right="use torch.sigmoid, which is exact for every z and saturates at 0 and 1",
    replace={
        "from torch import Tensor\n": NAIVE_SIGMOID,
        "r = torch.sigmoid(": "r = naive_sigmoid(",
        "z = torch.sigmoid(": "z = naive_sigmoid(",
        "i = torch.sigmoid(": "i = naive_sigmoid(",
        "f = torch.sigmoid(": "f = naive_sigmoid(",
        "o = torch.sigmoid(": "o = naive_sigmoid(",
    },
)
