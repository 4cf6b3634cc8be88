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
