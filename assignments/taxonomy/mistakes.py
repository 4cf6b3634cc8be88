"""The classic mistakes of the sequence losses: which steps count, and how they are accumulated.

The reference's one_to_many_loss is many_to_many_loss without padding, so a patch of how many_to_many_loss
accumulates over time or over the batch makes one_to_many_loss make the same mistake, as a student's would.
"""

from grader.mistakes import Catalogue

catalogue = Catalogue()

# which step many-to-one reads

catalogue.add(
    "many_to_one_padding_ignored",
    mistake="the loss is read at the last step T - 1 for every sequence, padding or not",
    right="the lecture's eq. (2) reads each sequence at its last real step, index lengths[b] - 1",
    replace={"z = logits[lengths - 1, batch]": "z = logits[T - 1]"},
)

catalogue.add(
    "many_to_one_off_by_one",
    mistake="the loss is read at step lengths[b] (one past the last real step, and out of range for a full sequence)",
    right="steps are numbered from 0, so the lecture's eq. (2) reads sequence b at its last real step, index "
    "lengths[b] - 1",
    replace={"z = logits[lengths - 1, batch]": "z = logits[lengths, batch]"},
)

# how many-to-many (and one-to-many) accumulate

catalogue.add(
    "many_to_many_mean_over_time",
    mistake="the per-step losses of each sequence are averaged over its steps instead of summed",
    right="the lecture's eqs. (3) and (4) sum the per-step losses over time (a longer sequence carries more loss) "
    "and average only over the batch",
    replace={
        "per_sequence = torch.where(valid, loss, 0.0).sum(dim=0)": (
            "per_sequence = torch.where(valid, loss, 0.0).sum(dim=0) / lengths"
        )
    },
)

catalogue.add(
    "many_to_many_padding_counted",
    mistake="the padded steps count too: the per-step losses are summed over all T steps",
    right="the lecture's eq. (3) sums each sequence's losses over its real steps t < lengths[b] only",
    replace={"torch.where(valid, loss, 0.0).sum(dim=0)": "loss.sum(dim=0)"},
)

catalogue.add(
    "many_to_many_flattened_mean",
    mistake="the losses are the default of F.cross_entropy(logits.reshape(-1, C), targets.reshape(-1)): a mean "
    "over all T * B steps, padding included",
    right="the lecture's eqs. (3) and (4) sum each sequence's losses over its real steps, then average over the "
    "batch only",
    replace={"return per_sequence.mean()": "return loss.mean()"},
)

# both

catalogue.add(
    "batch_sum_instead_of_mean",
    mistake="the losses of the sequences are summed over the batch instead of averaged",
    right="the lecture's eqs. (2) to (4) all take the mean over the batch, 1/B sum_b",
    replace={"return loss.mean()": "return loss.sum()", "return per_sequence.mean()": "return per_sequence.sum()"},
)

# Before cross_entropy_overflow: on logits spread by 1e3 both give inf, and only the overflow fails on logits
# around 1e3 too, where the softmax is exact.
catalogue.add(
    "cross_entropy_log_of_softmax",
    mistake="the cross-entropy is computed as -log(softmax(z)_y), which is inf when the target's probability "
    "underflows to 0 (logits spread by 1e3)",
    right="the handout's eq. (1) is computed in log space, logsumexp(z) - z_y (torch.logsumexp or "
    "torch.log_softmax), which never takes the log of an underflowed probability",
    replace={
        "loss = torch.logsumexp(z, dim=-1) - z[batch, target]": (
            "loss = -torch.log(torch.softmax(z, dim=-1))[batch, target]"
        ),
        "loss = torch.logsumexp(logits, dim=-1) - z_y": (
            "loss = -torch.log(torch.softmax(logits, dim=-1)).gather(-1, targets.unsqueeze(-1)).squeeze(-1)"
        ),
    },
)

catalogue.add(
    "cross_entropy_overflow",
    mistake="the cross-entropy is computed as log(sum(exp(z))) - z_y, which overflows to inf for logits around 1000",
    right="the handout's eq. (1) is computed stably with torch.logsumexp (or torch.log_softmax), which subtract "
    "the largest logit before exponentiating",
    replace={
        "torch.logsumexp(z, dim=-1)": "torch.log(torch.exp(z).sum(dim=-1))",
        "torch.logsumexp(logits, dim=-1)": "torch.log(torch.exp(logits).sum(dim=-1))",
    },
)

# Variants: what students write instead of the mistakes above, each named as such.

catalogue.add(
    "many_to_one_first_step",
    mistake="the loss is read at the first step, index 0, for every sequence",
    right="a many-to-one model answers once it has read the whole sequence: the lecture's eq. (2) reads sequence b at "
    "its last real step, index lengths[b] - 1",
    replace={"z = logits[lengths - 1, batch]": "z = logits[0]"},
)

catalogue.add(
    "many_to_many_divided_by_length",
    mistake="each sequence's summed loss is divided by T, the padded length, a mean over time with the wrong "
    "normaliser",
    right="the lecture's eqs. (3) and (4) sum the per-step losses over each sequence's real steps without dividing "
    "them (by T or by lengths[b]), and average only over the batch",
    replace={
        "per_sequence = torch.where(valid, loss, 0.0).sum(dim=0)": (
            "per_sequence = torch.where(valid, loss, 0.0).sum(dim=0) / T"
        )
    },
)

catalogue.add(
    "many_to_many_token_mean",
    mistake="the loss is the mean over all real steps of the batch, sum / sum(lengths) (what F.cross_entropy with "
    "ignore_index gives), instead of a sum per sequence averaged over the batch",
    right="the lecture's eqs. (3) and (4) sum each sequence's per-step losses over its real steps, then divide by "
    "the batch size B only: J = 1/B sum_b sum_{t <= L_b} l(z_t, y_t)",
    replace={"return per_sequence.mean()": "return per_sequence.sum() / lengths.sum()"},
)

catalogue.add(
    "many_to_many_mask_off_by_one",
    mistake="the steps t <= lengths[b] count, one padded step too many",
    right="steps are numbered from 0, so sequence b's real steps are t = 0 .. lengths[b] - 1: the mask is "
    "t < lengths[b] (eq. (3))",
    replace={"torch.arange(T).unsqueeze(1) < lengths": "torch.arange(T).unsqueeze(1) <= lengths"},
)
