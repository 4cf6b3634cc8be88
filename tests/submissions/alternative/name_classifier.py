"""A correct name_classifier written another way: names read one at a time, each to its own length, losses summed
and divided by hand, and the optimizer's gradients set to None instead of zeroed."""

import string

import torch
from torch import nn

ALPHABET = "".join(chr(c) for c in range(ord("a"), ord("z") + 1))
ALPHABET += ALPHABET.upper() + " .,;'"


def encode_name(name):
    indices = torch.tensor([ALPHABET.index(c) for c in name])
    return nn.functional.one_hot(indices, num_classes=len(ALPHABET)).float()


def encode_batch(names):
    encoded = [encode_name(n) for n in names]
    x = nn.utils.rnn.pad_sequence(encoded)  # (T, B, A), zeros after each name
    return x, torch.tensor([len(n) for n in names], dtype=torch.int64)


class NameClassifier(nn.Module):
    def __init__(self, input_size, hidden_size, output_size):
        super().__init__()
        self.rnn = nn.RNNCell(input_size, hidden_size)
        self.fc = nn.Linear(hidden_size, output_size)
        self.log_softmax = nn.LogSoftmax(dim=1)

    def forward(self, x, lengths):
        rows = []
        for b in range(x.shape[1]):
            h = torch.zeros(1, self.rnn.hidden_size)
            for t in range(int(lengths[b])):
                h = self.rnn(x[t, b].unsqueeze(0), h)
            rows.append(h)
        return self.log_softmax(self.fc(torch.cat(rows)))


def make_optimizer(model, learning_rate):
    return torch.optim.SGD(list(model.parameters()), learning_rate)


def train_step(model, optimizer, x, lengths, labels):
    optimizer.zero_grad(set_to_none=True)
    log_probs = model(x, lengths)
    loss = -log_probs[torch.arange(len(labels)), labels].sum() / len(labels)
    loss.backward()
    optimizer.step()
    return float(loss)


assert ALPHABET == string.ascii_letters + " .,;'"
