"""The classic mistakes of backpropagation through time, SGD and gradient clipping, each a small patch of the
reference."""

from grader.mistakes import Catalogue

catalogue = Catalogue()

# The full-BPTT sweep and the truncated windows of rnn_backward repeat the same lines; the patches that must
# reach both tell them apart by their comments or by their indentation (12 spaces in the sweep, 16 in a window).

catalogue.add(
    "bptt_no_time_accumulation",
    mistake="dL/dh_t holds only the loss at step t (delta_t = dL_t/dh_t), without the term flowing back from "
    "h_{t+1}, so h_{t-1} is treated as a constant that does not depend on the weights",
    right="h_t feeds h_{t+1}, so eq. (11) adds the later steps' error: delta_t = dL/dy_t W_hy + dL/dz_{t+1} W_hh, "
    "as the scalar eq. (5) passes delta_{t-1} = dJ/dz_t theta_hh back",
    replace={
        "delta = delta + d_y[t - 1] @ W_hy": "delta = d_y[t - 1] @ W_hy",
        "delta = d_z * theta_hh  # dJ/dh_{t-1}": "delta = 0.0  # dJ/dh_{t-1}",
    },
)

catalogue.add(
    "bptt_missing_tanh_derivative",
    mistake="the tanh's derivative (1 - h_t^2) is left out, dL/dz_t = dL/dh_t",
    right="the chain rule through h_t = tanh(z_t) multiplies by tanh'(z_t) = 1 - h_t^2: "
    "dL/dz_t = delta_t * (1 - h_t^2) (eq. (12), and eq. (5) in the scalar example)",
    replace={
        "d_z = delta * (1 - hs[t] ** 2)": "d_z = delta",
        "d_z = delta * (1 - h[t] ** 2)  # dL/dz_t": "d_z = delta  # dL/dz_t",
        "d_z = delta * (1 - h[t] ** 2)  # dL_s/dz_t": "d_z = delta  # dL_s/dz_t",
    },
)

catalogue.add(
    "bptt_tanh_derivative_wrong_step",
    mistake="every step's tanh derivative is taken at the last step, 1 - h_T^2 (the slide's misprint: "
    "(1 - tanh^2(z2)) in dJ/dtheta_xh and dJ/db_h)",
    right="each step has its own factor, dL/dz_t = delta_t * (1 - h_t^2) (eqs. (5) and (12)), so by the chain rule "
    "the worked example's first step contributes theta_hh * (1 - tanh^2(z1)), not (1 - tanh^2(z2))",
    replace={
        "d_z = delta * (1 - hs[t] ** 2)": "d_z = delta * (1 - hs[-1] ** 2)",
        "d_z = delta * (1 - h[t] ** 2)  # dL/dz_t": "d_z = delta * (1 - h[-1] ** 2)  # dL/dz_t",
        "d_z = delta * (1 - h[t] ** 2)  # dL_s/dz_t": "d_z = delta * (1 - h[-1] ** 2)  # dL_s/dz_t",
    },
)

catalogue.add(
    "bptt_mean_instead_of_sum",
    mistake="the loss and its gradients are averaged over the loss terms (time steps and batch) instead of summed",
    right="the loss is a sum, not a mean: L = sum over t and b of 1/2 ||y_t - target_t||^2 (eq. (10)), "
    "and every gradient is the sum of its terms",
    replace={
        "loss = 0.5 * (d_y**2).sum()": "loss = 0.5 * (d_y**2).sum() / (len(loss_steps) * x.shape[1])\n"
        "    d_y = d_y / (len(loss_steps) * x.shape[1])",
    },
)

catalogue.add(
    "clip_per_tensor",
    mistake="each tensor is clipped by its own norm instead of all of them by their global norm",
    right="eq. (15) scales every tensor by the same factor min(1, max_norm / (total_norm + 1e-6)), with total_norm "
    "the norm of all entries of all tensors together, which keeps the gradient's direction",
    replace={
        "clipped = {name: g * coefficient for name, g in grads.items()}": "clipped = {name: g * torch.clamp(max_norm / "
        "(torch.sqrt((g**2).sum()) + 1e-6), max=1.0) for name, g in grads.items()}",
    },
)

catalogue.add(
    "bptt_recurrent_grad_uses_current_state",
    mistake="dL/dW_hh sums dL/dz_t^T h_t, the state the step produces, instead of h_{t-1}, the state it reads",
    right="W_hh multiplies h_{t-1} in eq. (8), so the handout's sums after eq. (12) have "
    "dL/dW_hh = sum over t of dL/dz_t^T h_{t-1}, as eq. (6) has dJ/dtheta_hh = sum over t of dJ/dz_t h_{t-1}",
    replace={
        "d_theta_hh += d_z * hs[t - 1]": "d_theta_hh += d_z * hs[t]",
        "\n            d_W_hh = d_W_hh + d_z.T @ h[t - 1]": "\n            d_W_hh = d_W_hh + d_z.T @ h[t]",
        "\n                d_W_hh = d_W_hh + d_z.T @ h[t - 1]": "\n                d_W_hh = d_W_hh + d_z.T @ h[t]",
    },
)

catalogue.add(
    "bptt_recurrent_weight_transposed",
    mistake="the gradient goes back to h_{t-1} through W_hh^T, dL/dh_{t-1} = dL/dz_t W_hh^T",
    right="the forward step (8) multiplies h_{t-1} by W_hh^T, so the way back multiplies by W_hh: "
    "delta_t = dL/dy_t W_hy + dL/dz_{t+1} W_hh (eq. (11))",
    replace={
        "delta = d_z @ W_hh  # the part": "delta = d_z @ W_hh.T  # the part",
        "delta = d_z @ W_hh  # dL_s/dh_{t-1}": "delta = d_z @ W_hh.T  # dL_s/dh_{t-1}",
    },
)

catalogue.add(
    "sgd_step_ascent",
    mistake="the step adds the gradient, theta + lr * dJ/dtheta, climbing the loss",
    right="gradient descent steps against the gradient: theta <- theta - lr * dJ/dtheta (eq. (7))",
    replace={"params[name] - lr * grads[name]": "params[name] + lr * grads[name]"},
)

catalogue.add(
    "clip_always_rescales",
    mistake="the gradients are always rescaled to max_norm / total_norm, also when their norm is below max_norm",
    right="clipping only ever shrinks: the factor is min(1, max_norm / (total_norm + 1e-6)) (eq. (15)), so "
    "gradients whose norm is at most max_norm are left as they are",
    replace={"torch.clamp(max_norm / (total_norm + 1e-6), max=1.0)": "max_norm / (total_norm + 1e-6)"},
)

# Variants: what students write instead of the mistakes above, each named as such.

catalogue.add(
    "bptt_tanh_derivative_of_state",
    mistake="the tanh's derivative is taken of the state, 1 - tanh(h_t)^2, applying tanh to h_t = tanh(z_t) a second "
    "time",
    right="h_t is already tanh(z_t), so tanh'(z_t) = 1 - tanh(z_t)^2 = 1 - h_t^2: dL/dz_t = delta_t * (1 - h_t^2) "
    "(eq. (12), and eq. (5) in the scalar example)",
    replace={
        "d_z = delta * (1 - hs[t] ** 2)": "d_z = delta * (1 - math.tanh(hs[t]) ** 2)",
        "d_z = delta * (1 - h[t] ** 2)  # dL/dz_t": "d_z = delta * (1 - torch.tanh(h[t]) ** 2)  # dL/dz_t",
        "d_z = delta * (1 - h[t] ** 2)  # dL_s/dz_t": "d_z = delta * (1 - torch.tanh(h[t]) ** 2)  # dL_s/dz_t",
    },
)

catalogue.add(
    "bptt_sigmoid_derivative",
    mistake="the sigmoid's derivative h_t (1 - h_t) is used instead of the tanh's",
    right="the state is h_t = tanh(z_t), whose derivative is 1 - h_t^2: dL/dz_t = delta_t * (1 - h_t^2) "
    "(eq. (12), and eq. (5) in the scalar example)",
    replace={
        "d_z = delta * (1 - hs[t] ** 2)": "d_z = delta * hs[t] * (1 - hs[t])",
        "d_z = delta * (1 - h[t] ** 2)  # dL/dz_t": "d_z = delta * h[t] * (1 - h[t])  # dL/dz_t",
        "d_z = delta * (1 - h[t] ** 2)  # dL_s/dz_t": "d_z = delta * h[t] * (1 - h[t])  # dL_s/dz_t",
    },
)

catalogue.add(
    "bptt_tanh_derivative_previous_state",
    mistake="each step's tanh derivative is taken at the state it reads, 1 - h_{t-1}^2, instead of the one it produces",
    right="h_t = tanh(z_t), so dL/dz_t = delta_t * (1 - h_t^2) with the step's own output h_t (eqs. (5) and (12))",
    replace={
        "d_z = delta * (1 - hs[t] ** 2)": "d_z = delta * (1 - hs[t - 1] ** 2)",
        "d_z = delta * (1 - h[t] ** 2)  # dL/dz_t": "d_z = delta * (1 - h[t - 1] ** 2)  # dL/dz_t",
        "d_z = delta * (1 - h[t] ** 2)  # dL_s/dz_t": "d_z = delta * (1 - h[t - 1] ** 2)  # dL_s/dz_t",
    },
)

catalogue.add(
    "bptt_recurrent_path_skips_tanh",
    mistake="the error goes back to h_{t-1} as dL/dh_t W_hh, skipping the tanh's derivative on the way",
    right="h_{t-1} reaches the loss through z_t, so the chain rule passes dL/dz_t = delta_t * (1 - h_t^2) back: "
    "dL/dh_{t-1} = dL/dz_t W_hh (eq. (11)), as the scalar eq. (5) passes dJ/dz_t theta_hh",
    replace={
        "delta = d_z @ W_hh  # the part": "delta = delta @ W_hh  # the part",
        "delta = d_z @ W_hh  # dL_s/dh_{t-1}": "delta = delta @ W_hh  # dL_s/dh_{t-1}",
        "delta = d_z * theta_hh  # dJ/dh_{t-1}": "delta = delta * theta_hh  # dJ/dh_{t-1}",
    },
)

# W_hh is square, so its gradient transposed has the right shape.
catalogue.add(
    "bptt_recurrent_grad_transposed",
    mistake="dL/dW_hh sums h_{t-1}^T dL/dz_t, the transpose of the gradient (W_hh is square, so the shape fits)",
    right="W_hh is (H, H) with rows for the outputs: the handout's sums after eq. (12) have "
    "dL/dW_hh = sum over t of dL/dz_t^T h_{t-1}, as dL/dW_ih = sum over t of dL/dz_t^T x_t",
    replace={
        "\n            d_W_hh = d_W_hh + d_z.T @ h[t - 1]": "\n            d_W_hh = d_W_hh + h[t - 1].T @ d_z",
        "\n                d_W_hh = d_W_hh + d_z.T @ h[t - 1]": "\n                d_W_hh = d_W_hh + h[t - 1].T @ d_z",
    },
)

catalogue.add(
    "bptt_bias_grad_not_summed_over_batch",
    mistake="the biases' gradients are not summed over the batch, so dL/db_ih and dL/db_hh are (B, H)",
    right="a bias is added to every row of the batch, so its gradient sums dL/dz_t over the batch and the steps: "
    "dL/db_ih = dL/db_hh = sum over t and b of dL/dz_t, shaped (H,) like the bias",
    replace={
        "\n            d_b_ih = d_b_ih + d_z.sum(dim=0)": "\n            d_b_ih = d_b_ih + d_z",
        "\n            d_b_hh = d_b_hh + d_z.sum(dim=0)": "\n            d_b_hh = d_b_hh + d_z",
        "\n                d_b_ih = d_b_ih + d_z.sum(dim=0)": "\n                d_b_ih = d_b_ih + d_z",
        "\n                d_b_hh = d_b_hh + d_z.sum(dim=0)": "\n                d_b_hh = d_b_hh + d_z",
    },
)

catalogue.add(
    "bptt_readout_grad_shifted",
    mistake="the readout's gradient pairs dL/dy_t with the previous state, dL/dW_hy = sum over t of dL/dy_t^T h_{t-1}",
    right="y_t reads h_t (eq. (9)), so dL/dW_hy = sum over t of dL/dy_t^T h_t, and dJ/dtheta_hy = (y_hat - y) h_T in "
    "the scalar example",
    replace={
        "h[1:].flatten(0, 1)": "h[:-1].flatten(0, 1)",
        "d_theta_hy = d_y_hat * hs[-1]": "d_theta_hy = d_y_hat * hs[-2]",
    },
)

catalogue.add(
    "bptt_h0_grad_zero",
    mistake="dL/dh0 is left at zero, as if the initial state did not affect the loss",
    right="h0 feeds h_1, so the error that reaches step 1 flows on into it: dL/dh0 = dL/dz_1 W_hh, what eq. (11) "
    "passes back from the first step (in a truncated window, only when the window reaches h0)",
    replace={
        "        d_h0 = delta\n": "        d_h0 = torch.zeros_like(h0)\n",
        "                d_h0 = d_h0 + delta": "                d_h0 = d_h0",
    },
)

catalogue.add(
    "bptt_mean_over_batch",
    mistake="the loss and its gradients are averaged over the batch instead of summed",
    right="the loss is a sum over the batch as well as over time: L = sum over t and b of 1/2 ||y_t - target_t||^2 "
    "(eq. (10)), and every gradient is the sum of its terms",
    replace={
        "loss = 0.5 * (d_y**2).sum()": "loss = 0.5 * (d_y**2).sum() / x.shape[1]\n    d_y = d_y / x.shape[1]",
    },
)

catalogue.add(
    "bptt_loss_missing_half",
    mistake="the loss leaves out the 1/2, L = sum of ||y_t - target_t||^2, while the gradients keep dL/dy_t = "
    "y_t - target_t",
    right="the loss of eq. (10) is L = sum over t and b of 1/2 ||y_t - target_t||^2 (J = 1/2 (y_hat - y)^2 in the "
    "scalar example), whose derivative is y_t - target_t",
    replace={
        "loss = 0.5 * (d_y**2).sum()": "loss = (d_y**2).sum()",
        "loss = 0.5 * (y_hat - y) ** 2": "loss = (y_hat - y) ** 2",
    },
)

catalogue.add(
    "clip_by_value",
    mistake="each entry is clamped to [-max_norm, max_norm] (clipping by value, as torch.nn.utils.clip_grad_value_) "
    "instead of all tensors being scaled by their global norm",
    right="eq. (15) clips by norm: every tensor is multiplied by the same factor min(1, max_norm / (total_norm + "
    "1e-6)), which keeps the gradient's direction",
    replace={
        "clipped = {name: g * coefficient for name, g in grads.items()}": (
            "clipped = {name: g.clamp(-max_norm, max_norm) for name, g in grads.items()}"
        )
    },
)

catalogue.add(
    "clip_norm_squared",
    mistake="the global norm is the sum of the squared entries, without the square root",
    right="eq. (15) has total_norm = sqrt(sum of the squared entries of all tensors), the Euclidean norm of all of "
    "them together",
    replace={
        "total_norm = torch.sqrt(sum((g**2).sum() for g in grads.values()))": (
            "total_norm = sum((g**2).sum() for g in grads.values())"
        )
    },
)

catalogue.add(
    "clip_sum_of_norms",
    mistake="the global norm is the sum of the tensors' norms instead of the norm of all their entries together",
    right="eq. (15) has total_norm = sqrt(sum of the squared entries of all tensors): the tensors' norms add up in "
    "squares, sqrt(sum of ||g||^2), not as sum of ||g||",
    replace={
        "total_norm = torch.sqrt(sum((g**2).sum() for g in grads.values()))": (
            "total_norm = sum(torch.sqrt((g**2).sum()) for g in grads.values())"
        )
    },
)

catalogue.add(
    "sgd_lr_ignored",
    mistake="the step leaves out the learning rate, theta - dJ/dtheta",
    right="gradient descent scales the step by the learning rate: theta <- theta - lr * dJ/dtheta (eq. (7))",
    replace={"params[name] - lr * grads[name]": "params[name] - grads[name]"},
)

catalogue.add(
    "sgd_iterates_grads_keys",
    mistake="the new dict is built over the keys of grads, which may hold keys params does not have (the loss)",
    right="sgd_step returns one entry for every key of params, {k: params[k] - lr * grads[k] for k in params}: grads "
    "holds at least those keys, and maybe more",
    replace={"for name in params}": "for name in grads}"},
)

# Right for small pre-activations, NaN (or OverflowError from math.exp) once e^(2z) overflows: z above 44 in float32.
catalogue.add(
    "tanh_overflow",
    mistake="the forward pass writes tanh as (e^(2z) - 1) / (e^(2z) + 1), which is inf / inf = NaN once e^(2z) "
    "overflows (a pre-activation above 44 in float32, 355 in float64), and every gradient after it with it",
    right="use torch.tanh (math.tanh for a float), which is exact for every z and saturates at ±1",
    replace={
        "hs.append(torch.tanh(x_t @ W_ih.T + b_ih + hs[-1] @ W_hh.T + b_hh))": (
            "e = torch.exp(2 * (x_t @ W_ih.T + b_ih + hs[-1] @ W_hh.T + b_hh)); hs.append((e - 1) / (e + 1))"
        ),
        "hs.append(math.tanh(theta_xh * x_t + theta_hh * hs[-1] + b_h))": (
            "e = math.exp(2 * (theta_xh * x_t + theta_hh * hs[-1] + b_h)); hs.append((e - 1) / (e + 1))"
        ),
    },
)
