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
