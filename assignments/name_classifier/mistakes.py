"""The classic mistakes of a character-level RNN classifier and its training loop, each a small patch of the
reference."""

from grader.mistakes import Catalogue

catalogue = Catalogue()

catalogue.add(
    "nc_one_hot_off_by_one",
    mistake="each letter's 1 is one column late, at ALPHABET.index(letter) + 1 (the letters counted from 1, the last "
    "wrapping round to column 0)",
    right="eq. (1) puts x_t's single 1 at column ALPHABET.index(name[t]), counting from 0",
    replace={"x[t, ALPHABET.index(letter)] = 1.0": "x[t, (ALPHABET.index(letter) + 1) % len(ALPHABET)] = 1.0"},
)

catalogue.add(
    "nc_first_state",
    mistake="each name is read off the state after its first letter, h_1, instead of its last",
    right="many-to-one reads the name's final state h_L (eq. (3)), after the cell has seen every letter",
    replace={"h_last = torch.where(ends_here, h, h_last)  # h_L": "h_last = h if t == 0 else h_last  # h_L"},
)

catalogue.add(
    "nc_padded_step",
    mistake="every name is read off the batch's last step, h_T, so a short name's state has run on through the "
    "padding after it",
    right="each name has its own last letter L = lengths[b], and eq. (3) reads h_L there, not h_T",
    replace={"return self.log_softmax(self.fc(h_last))  # (3)": "return self.log_softmax(self.fc(h))  # (3)"},
)

catalogue.add(
    "nc_state_not_reset",
    mistake="the hidden state is carried over from the previous batch instead of starting again from zero",
    right="every name starts from h_0 = 0 (eq. (2)): make a fresh zero state in each forward call",
    replace={
        "h = x.new_zeros(x.shape[1], self.hidden_size)  # h_0 = 0, for every name of the batch": (
            "h = getattr(self, 'carried', None)\n"
            "        if h is None or h.shape[0] != x.shape[1]:\n"
            "            h = x.new_zeros(x.shape[1], self.hidden_size)"
        ),
        "return self.log_softmax(self.fc(h_last))  # (3)": (
            "self.carried = h.detach()\n        return self.log_softmax(self.fc(h_last))  # (3)"
        ),
    },
)

catalogue.add(
    "nc_state_carried_between_names",
    mistake="the hidden state is made once and carried from one name to the next, so each name starts where the "
    "previous one ended",
    right="every name starts from h_0 = 0 (eq. (2)): reset the state for each name, or run the batch in parallel "
    "from one zero state per name",
    replace={
        "h = x.new_zeros(x.shape[1], self.hidden_size)  # h_0 = 0, for every name of the batch": (
            "rows, h = [], x.new_zeros(1, self.hidden_size)\n"
            "        for b in range(x.shape[1]):\n"
            "            for t in range(int(lengths[b])):\n"
            "                h = self.rnn(x[t, b : b + 1], h)\n"
            "            rows.append(h)\n"
            "        return self.log_softmax(self.fc(torch.cat(rows)))"
        ),
    },
)

catalogue.add(
    "nc_no_log_softmax",
    mistake="forward returns the linear layer's scores without the LogSoftmax",
    right="eq. (3) ends with LogSoftmax over the classes, so that NLLLoss gets log-probabilities",
    replace={"return self.log_softmax(self.fc(h_last))  # (3)": "return self.fc(h_last)  # (3)"},
)

catalogue.add(
    "nc_log_softmax_over_batch",
    mistake="the LogSoftmax normalises over the batch (dim=0) instead of over the classes",
    right="each name's log-probabilities sum (as probabilities) to 1 over its C classes: LogSoftmax(dim=1) on (B, C)",
    replace={"nn.LogSoftmax(dim=1)": "nn.LogSoftmax(dim=0)"},
)

catalogue.add(
    "nc_no_zero_grad",
    mistake="the gradients are never zeroed, so each step adds its gradient to all the earlier ones",
    right="backward() accumulates into .grad: call optimizer.zero_grad() before each step's backward",
    replace={"    optimizer.zero_grad()\n": ""},
)

catalogue.add(
    "nc_step_before_backward",
    mistake="the optimizer steps before backward(), so each update uses the previous batch's gradients",
    right="zero the gradients, compute the loss, loss.backward(), then optimizer.step()",
    replace={"loss.backward()\n    optimizer.step()  # (5)": "optimizer.step()  # (5)\n    loss.backward()"},
)

catalogue.add(
    "nc_nll_of_probabilities",
    mistake="NLLLoss is given probabilities (the log-probabilities exponentiated) instead of log-probabilities",
    right="NLLLoss takes log-probabilities, -log p[y] is -log_probs[y]: give it the LogSoftmax's output as it is",
    replace={"nn.functional.nll_loss(log_probs, labels)": "nn.functional.nll_loss(log_probs.exp(), labels)"},
)

catalogue.add(
    "nc_loss_summed",
    mistake="the loss is summed over the batch instead of averaged",
    right="eq. (4) is the batch's mean, -(1/B) sum_b log p_b[y_b], NLLLoss's default reduction",
    replace={"nn.functional.nll_loss(log_probs, labels)": "nn.functional.nll_loss(log_probs, labels, reduction='sum')"},
)

catalogue.add(
    "nc_gradient_ascent",
    mistake="the update climbs the loss (maximize=True, or a learning rate of the wrong sign)",
    right="eq. (5) steps against the gradient, theta <- theta - lr * dloss/dtheta, SGD's default",
    replace={"torch.optim.SGD(model.parameters(), lr=learning_rate)": (
        "torch.optim.SGD(model.parameters(), lr=learning_rate, maximize=True)"
    )},
)
