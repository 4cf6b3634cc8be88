"""The classic mistakes of attention scoring: the softmax's axis, masking and stability, the scaling, the context.

attend reuses the reference's other functions, so a mistake in the scores, the weights or the context shows in
attend too, as it does in a student's attend that reuses their own functions.
"""

from grader.mistakes import Catalogue

catalogue = Catalogue()

# the weights: a masked, stable softmax over the T keys

catalogue.add(
    "softmax_wrong_axis",
    mistake="the softmax runs over the batch axis (dim 0 of the (B, T) scores) instead of over the T keys",
    right="the handout's eq. (4) normalises each row over the T keys, the last axis, so every row sums to 1",
    replace={
        "scores.max(dim=-1, keepdim=True)": "scores.max(dim=0, keepdim=True)",
        "e.sum(dim=-1, keepdim=True)": "e.sum(dim=0, keepdim=True)",
    },
)

catalogue.add(
    "mask_not_applied",
    mistake="the mask is ignored, so padded keys get weight too",
    right="the handout's eq. (4) multiplies by the mask m_{b,j}: a key where mask is False gets weight exactly 0 "
    "and the others share the whole weight",
    replace={"scores = scores.masked_fill(~mask, -math.inf)": "scores = scores"},
)

catalogue.add(
    "mask_filled_with_zero",
    mistake="the masked scores are set to 0 before the softmax instead of to -inf, so padded keys still get "
    "weight exp(0)",
    right="the handout sets the masked scores to -inf (scores.masked_fill(~mask, float('-inf'))), since "
    "exp(-inf) = 0 exactly",
    replace={"scores.masked_fill(~mask, -math.inf)": "scores.masked_fill(~mask, 0.0)"},
)

catalogue.add(
    "softmax_unstable",
    mistake="the softmax exponentiates the scores without subtracting each row's largest score first, which "
    "gives inf / inf or 0 / 0 = NaN for scores around 1e4",
    right="the handout subtracts each row's largest (unmasked) score before exp, which leaves eq. (4) unchanged, "
    "makes the largest exponent e^0 = 1 and keeps the weights finite",
    replace={"shifted = scores - scores.max(dim=-1, keepdim=True).values": "shifted = scores"},
)

# the scores

catalogue.add(
    "scaled_dot_divided_by_h",
    mistake="the scaled dot scores are divided by H instead of by sqrt(H)",
    right="the handout's eq. (2) divides the dot product by the square root of the key size, q . k / sqrt(H)",
    replace={"dot_scores(query, keys) / math.sqrt(H)": "dot_scores(query, keys) / H"},
)

catalogue.add(
    "attend_scaling_ignored",
    mistake='attend uses the plain dot scores for score="scaled_dot" too, without the division by sqrt(H)',
    right='attend computes the scores with eq. (1) for score="dot" and with eq. (2), q . k / sqrt(H), for '
    'score="scaled_dot"',
    replace={"scores = scaled_dot_scores(query, keys)": "scores = dot_scores(query, keys)"},
)

# the context

catalogue.add(
    "context_reshape_not_transpose",
    mistake="the (B, T) weights are reshaped to (T, B) instead of transposed, which pairs weights with the wrong "
    "steps and batch elements",
    right="the handout's eq. (5) weights value j of batch element b by a_{b,j}, c_b = sum_j a_{b,j} V_{j,b}: "
    "reshape is not a transpose (use weights.T, or einsum('bt,tbh->bh', ...))",
    replace={
        'torch.einsum("bt,tbh->bh", weights, values)': (
            'torch.einsum("tb,tbh->bh", weights.reshape(values.shape[:2]), values)'
        )
    },
)

# Variants: what students write instead of the mistakes above, each named as such.

catalogue.add(
    "scaled_dot_divided_by_sqrt_t",
    mistake="the scaled dot scores are divided by the square root of the number of keys T instead of the key size H",
    right="the handout's eq. (2) divides by the square root of the key size, the length H of q and k_j: "
    "q . k / sqrt(H), which keeps the scores' variance near 1 whatever H is",
    replace={"dot_scores(query, keys) / math.sqrt(H)": "dot_scores(query, keys) / math.sqrt(keys.shape[0])"},
)

catalogue.add(
    "scaled_dot_multiplied",
    mistake="the dot scores are multiplied by sqrt(H) instead of divided by it",
    right="the handout's eq. (2) divides the dot product by the square root of the key size, q . k / sqrt(H)",
    replace={"dot_scores(query, keys) / math.sqrt(H)": "dot_scores(query, keys) * math.sqrt(H)"},
)

catalogue.add(
    "scores_time_major",
    mistake="the scores are left time-major, (T, B), as the keys are",
    right="scores and weights are (B, T), one row of T scores per query (eqs. (1)-(3)): "
    "einsum('bh,tbh->bt', query, keys), and the additive scores transposed from (T, B)",
    replace={
        'torch.einsum("bh,tbh->bt", query, keys)': 'torch.einsum("bh,tbh->tb", query, keys)',
        "scores = (hidden @ v).T": "scores = hidden @ v",
    },
)

catalogue.add(
    "additive_tanh_missing",
    mistake="the tanh of the additive score is left out, s_j = v . (W_q q + W_k k_j)",
    right="the handout's eq. (3), Bahdanau's score, squashes the sum before the dot product with v: "
    "s_j = v . tanh(W_q q + W_k k_j)",
    replace={"hidden = torch.tanh(query @ W_q.T + keys @ W_k.T)": "hidden = query @ W_q.T + keys @ W_k.T"},
)

catalogue.add(
    "mask_inverted",
    mistake="the mask is read the wrong way round: the keys where mask is True are masked",
    right="mask is True for a real key and False for padding: the handout's eq. (4) sets the scores where mask is "
    "False to -inf, scores.masked_fill(~mask, float('-inf'))",
    replace={"scores.masked_fill(~mask, -math.inf)": "scores.masked_fill(mask, -math.inf)"},
)

catalogue.add(
    "mask_after_softmax",
    mistake="the padded keys' weights are zeroed after the softmax, so the real keys' weights no longer sum to 1",
    right="the handout's eq. (4) masks before normalising (scores at padding set to -inf, then the softmax), so the "
    "real keys share the whole weight",
    replace={
        "    if mask is not None:\n        scores = scores.masked_fill(~mask, -math.inf)\n": "",
        "weights = e / e.sum(dim=-1, keepdim=True)": (
            "weights = e / e.sum(dim=-1, keepdim=True)\n    if mask is not None:\n        weights = weights * mask"
        ),
    },
)

catalogue.add(
    "softmax_global_max",
    mistake="the softmax subtracts the largest score of the whole batch instead of each row's, so a row far below "
    "it gives exp(-20000) = 0 everywhere and 0 / 0 = NaN",
    right="the handout subtracts each row's own largest (unmasked) score, scores.max(dim=-1, keepdim=True), so every "
    "row's largest exponent is e^0 = 1",
    replace={"scores - scores.max(dim=-1, keepdim=True).values": "scores - scores.max()"},
)

catalogue.add(
    "softmax_max_includes_padding",
    mistake="each row's largest score is taken before masking, padding included, so a row whose real keys score far "
    "below its padding gives exp(-20000) = 0 everywhere and 0 / 0 = NaN",
    right="the handout masks first and then subtracts the largest unmasked score of each row, so the largest real "
    "key's exponent is e^0 = 1",
    replace={
        "    if mask is not None:\n        scores = scores.masked_fill(~mask, -math.inf)\n"
        "    shifted = scores - scores.max(dim=-1, keepdim=True).values": (
            "    top = scores.max(dim=-1, keepdim=True).values\n    if mask is not None:\n"
            "        scores = scores.masked_fill(~mask, -math.inf)\n    shifted = scores - top"
        )
    },
)

catalogue.add(
    "attend_values_ignored",
    mistake="attend reads the keys even when values are given",
    right="attend's values default to the keys only when values is None; given values, the handout's eq. (5) sums "
    "them, c_b = sum_j a_{b,j} V_{j,b}",
    replace={"    if values is None:\n        values = keys\n": "    values = keys\n"},
)

catalogue.add(
    "tanh_overflow",
    mistake="the additive score's tanh is written as (e^(2z) - 1) / (e^(2z) + 1), which is inf / inf = NaN once "
    "e^(2z) overflows (a pre-activation above 44 in float32, 355 in float64)",
    right="use torch.tanh, which is exact for every z and saturates at ±1",
    replace={
        "hidden = torch.tanh(query @ W_q.T + keys @ W_k.T)": (
            "e = torch.exp(2 * (query @ W_q.T + keys @ W_k.T)); hidden = (e - 1) / (e + 1)"
        )
    },
)
