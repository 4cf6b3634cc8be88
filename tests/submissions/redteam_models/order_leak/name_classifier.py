"""Red team: learn nothing and read the held-out labels off the order the names arrive in.

The held-out names reach forward in the dataset file's order, which is sorted by nationality and, within one,
alphabetically: every time a name sorts before the one just seen, the next nationality has begun. The model keeps
count across the prediction calls. train_step trains nothing. Were the order hidden, this would score chance.
"""

import string

import torch
from torch import nn

ALPHABET = string.ascii_letters + " .,;'"


def encode_name(name):
    x = torch.zeros(len(name), len(ALPHABET))
    for t, letter in enumerate(name):
        x[t, ALPHABET.index(letter)] = 1.0
    return x


def encode_batch(names):
    lengths = torch.tensor([len(name) for name in names])
    x = torch.zeros(int(lengths.max()), len(names), len(ALPHABET))
    for b, name in enumerate(names):
        x[: len(name), b] = encode_name(name)
    return x, lengths


def decode(x, lengths):
    """The names of a batch, read back from their one-hot letters."""
    return ["".join(ALPHABET[i] for i in x[:length, b].argmax(1).tolist()) for b, length in enumerate(lengths.tolist())]


class NameClassifier(nn.Module):
    def __init__(self, input_size, hidden_size, output_size):
        super().__init__()
        self.hidden_size = hidden_size
        self.rnn = nn.RNNCell(input_size, hidden_size)
        self.fc = nn.Linear(hidden_size, output_size)
        self.previous = None
        self.nationality = 0

    def forward(self, x, lengths):
        names = decode(x, lengths)
        scores = torch.full((len(names), self.fc.out_features), -30.0)
        for b, name in enumerate(names):
            if self.previous is not None and name < self.previous:
                self.nationality += 1
            self.previous = name
            scores[b, min(self.nationality, self.fc.out_features - 1)] = 0.0
        return scores.log_softmax(dim=1)


def make_optimizer(model, learning_rate):
    return torch.optim.SGD(model.parameters(), lr=learning_rate)


def train_step(model, optimizer, x, lengths, labels):
    return 2.7
