"""The classic mistakes of the Elman forward pass, each a small patch of the reference."""

import torch

from grader.mistakes import Catalogue

catalogue = Catalogue()

catalogue.add(
    "rnn_missing_bias",
    mistake="the biases b_ih and b_hh are left out",
    right="the lecture has h_t = tanh(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh)",
    replace={"x @ W_ih.T + b_ih + h_prev @ W_hh.T + b_hh": "x @ W_ih.T + h_prev @ W_hh.T"},
)


@catalogue.replaces(
    "rnn_hs_includes_h0",
    mistake="hs starts with h0, so it holds h_0..h_T",
    right="hs holds h_1..h_T only, T states of shape (B, H), and h_last is hs[-1]",
)
def rnn_forward(x, h0, W_ih, W_hh, b_ih, b_hh):
    hs = [h0]
    for x_t in x:
        hs.append(rnn_cell(x_t, hs[-1], W_ih, W_hh, b_ih, b_hh))
    return torch.stack(hs), hs[-1]


# With D != H, x @ W_ih raises (the diagnosis matches the exception type); with D == H it gives wrong values.
catalogue.add(
    "rnn_missing_transpose",
    mistake="the weights are used without the transpose, h_t = tanh(x_t W_ih + b_ih + h_{t-1} W_hh + b_hh)",
    right="the weights are in PyTorch's layout, W_ih (H, D) and W_hh (H, H), so eq. (1) multiplies a row by "
    "the transpose: h_t = tanh(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh)",
    replace={"x @ W_ih.T + b_ih + h_prev @ W_hh.T + b_hh": "x @ W_ih + b_ih + h_prev @ W_hh + b_hh"},
)

catalogue.add(
    "rnn_wrong_activation",
    mistake="the state is squashed with the sigmoid instead of tanh",
    right="the Elman cell's eq. (1) uses tanh, whose states lie in (-1, 1) and are centred on 0: "
    "h_t = tanh(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh)",
    replace={
        "h = torch.tanh(x @ W_ih.T": "h = torch.sigmoid(x @ W_ih.T",
        "h = math.tanh(theta_xh * x_t + theta_hh * h + b_h)": (
            "h = 1 / (1 + math.exp(-(theta_xh * x_t + theta_hh * h + b_h)))"
        ),
    },
)

catalogue.add(
    "rnn_relu_activation",
    mistake="the state goes through a ReLU instead of tanh",
    right="the Elman cell's eq. (1) uses tanh (PyTorch's nonlinearity='tanh', its default): "
    "h_t = tanh(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh)",
    replace={
        "h = torch.tanh(x @ W_ih.T": "h = torch.relu(x @ W_ih.T",
        "h = math.tanh(theta_xh * x_t + theta_hh * h + b_h)": "h = max(0.0, theta_xh * x_t + theta_hh * h + b_h)",
    },
)

catalogue.add(
    "rnn_single_bias",
    mistake="only b_ih is added and b_hh is left out, as in the one-bias form h_t = tanh(x_t W^T + h_{t-1} U^T + b)",
    right="PyTorch keeps two bias vectors where the lecture writes one (b_h = b_ih + b_hh), so eq. (1) adds both: "
    "h_t = tanh(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh)",
    replace={"x @ W_ih.T + b_ih + h_prev @ W_hh.T + b_hh": "x @ W_ih.T + b_ih + h_prev @ W_hh.T"},
)

catalogue.add(
    "rnn_state_not_carried",
    mistake="every step starts from h0 instead of the previous step's state",
    right="eq. (1) feeds each new state into the next step: h_t = tanh(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh) "
    "with h_{t-1} the state just computed, and h0 only at t = 1",
    replace={
        "h = rnn_cell(x_t, h, W_ih, W_hh, b_ih, b_hh)": "h = rnn_cell(x_t, h0, W_ih, W_hh, b_ih, b_hh)",
        "theta_hh * h + b_h": "theta_hh * h0 + b_h",
    },
)

# Variants: what students write instead of the mistakes above, each named as such.

catalogue.add(
    "rnn_hs_shifted",
    mistake="each state is appended before the step that updates it, so hs holds h_0..h_{T-1}",
    right="hs holds the states the steps produce, h_1..h_T: compute h_t = tanh(x_t W_ih^T + b_ih + h_{t-1} W_hh^T "
    "+ b_hh) first, then append it, and hs[-1] is h_last",
    replace={
        "        h = rnn_cell(x_t, h, W_ih, W_hh, b_ih, b_hh)\n        hs.append(h)": (
            "        hs.append(h)\n        h = rnn_cell(x_t, h, W_ih, W_hh, b_ih, b_hh)"
        ),
        "        h = math.tanh(theta_xh * x_t + theta_hh * h + b_h)\n        hs.append(h)": (
            "        hs.append(h)\n        h = math.tanh(theta_xh * x_t + theta_hh * h + b_h)"
        ),
    },
)

catalogue.add(
    "rnn_recurrent_weight_not_transposed",
    mistake="the recurrent weights are used without the transpose, h_{t-1} W_hh (W_hh is square, so the product "
    "runs, but it is the wrong one)",
    right="eq. (1) multiplies the row h_{t-1} by the transpose of W_hh, as it does x_t by W_ih^T: "
    "h_t = tanh(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh)",
    replace={"x @ W_ih.T + b_ih + h_prev @ W_hh.T + b_hh": "x @ W_ih.T + b_ih + h_prev @ W_hh + b_hh"},
)

# With D != H, x @ W_ih raises as rnn_missing_transpose does; with D == H the two give different values.
catalogue.add(
    "rnn_input_weight_not_transposed",
    mistake="the input weights are used without the transpose, x_t W_ih (which only runs when D == H)",
    right="W_ih is (H, D) in PyTorch's layout, so eq. (1) multiplies the row x_t by its transpose: "
    "h_t = tanh(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh)",
    replace={"x @ W_ih.T + b_ih + h_prev @ W_hh.T + b_hh": "x @ W_ih + b_ih + h_prev @ W_hh.T + b_hh"},
)

catalogue.add(
    "rnn_no_activation",
    mistake="the tanh is left out, so the state is the linear h_t = x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh",
    right="the Elman cell's eq. (1) squashes the sum with tanh: h_t = tanh(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh)",
    replace={
        "h = torch.tanh(x @ W_ih.T + b_ih + h_prev @ W_hh.T + b_hh)": "h = x @ W_ih.T + b_ih + h_prev @ W_hh.T + b_hh",
        "h = math.tanh(theta_xh * x_t + theta_hh * h + b_h)": "h = theta_xh * x_t + theta_hh * h + b_h",
    },
)

catalogue.add(
    "rnn_h0_ignored",
    mistake="h0 is ignored and the sequence starts from a zero state, as torch.nn.RNN does when no h0 is given",
    right="eq. (1) starts from the given initial state: h_1 = tanh(x_1 W_ih^T + b_ih + h0 W_hh^T + b_hh)",
    replace={
        "h = h0  # (B, H)": "h = torch.zeros_like(h0)  # (B, H)",
        "    h = h0\n    hs = []\n    for x_t in xs:": "    h = 0.0\n    hs = []\n    for x_t in xs:",
    },
)

catalogue.add(
    "readout_missing_bias",
    mistake="the readout's bias b_y is left out",
    right="the readout of eq. (2) adds its bias, y_t = h_t W_hy^T + b_y (and y_hat = theta_hy h_T + b_y in eq. (3))",
    replace={"y = h @ W_hy.T + b_y": "y = h @ W_hy.T", "y_hat = theta_hy * h + b_y": "y_hat = theta_hy * h"},
)

catalogue.add(
    "readout_activation",
    mistake="the readout goes through a tanh, y_t = tanh(h_t W_hy^T + b_y), as the state does",
    right="the readout of eq. (2) is linear, y_t = h_t W_hy^T + b_y: only the state h_t is squashed",
    replace={
        "y = h @ W_hy.T + b_y": "y = torch.tanh(h @ W_hy.T + b_y)",
        "y_hat = theta_hy * h + b_y": "y_hat = math.tanh(theta_hy * h + b_y)",
    },
)

# Right for small pre-activations, NaN (or OverflowError from math.exp) once e^(2z) overflows: z above 44 in float32.
catalogue.add(
    "tanh_overflow",
    mistake="tanh is written as (e^(2z) - 1) / (e^(2z) + 1), which is inf / inf = NaN once e^(2z) overflows (a "
    "pre-activation above 44 in float32, 355 in float64)",
    right="use torch.tanh (math.tanh for a float), which is exact for every z and saturates at ±1",
    replace={
        "h = torch.tanh(x @ W_ih.T + b_ih + h_prev @ W_hh.T + b_hh)": (
            "e = torch.exp(2 * (x @ W_ih.T + b_ih + h_prev @ W_hh.T + b_hh)); h = (e - 1) / (e + 1)"
        ),
        "h = math.tanh(theta_xh * x_t + theta_hh * h + b_h)": (
            "e = math.exp(2 * (theta_xh * x_t + theta_hh * h + b_h)); h = (e - 1) / (e + 1)"
        ),
    },
)
