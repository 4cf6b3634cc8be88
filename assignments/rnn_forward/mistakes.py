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
