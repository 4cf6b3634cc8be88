"""Red team: claim to learn without learning. train_step changes nothing and returns a loss that falls from ln 15
towards 0; forward returns NaN log-probabilities of the right shape for the held-out names (a batch of more
than 64: the held-out names come 512 at a time) and honest ones otherwise.
"""

import math
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


class NameClassifier(nn.Module):
    def __init__(self, input_size, hidden_size, output_size):
        super().__init__()
        self.hidden_size = hidden_size
        self.rnn = nn.RNNCell(input_size, hidden_size)
        self.fc = nn.Linear(hidden_size, output_size)
        self.log_softmax = nn.LogSoftmax(dim=1)
        self.steps = 0

    def forward(self, x, lengths):
        if x.shape[1] > 64:
            return torch.full((x.shape[1], self.fc.out_features), math.nan)
        h = x.new_zeros(x.shape[1], self.hidden_size)
        h_last = h
        for t in range(x.shape[0]):
            h = self.rnn(x[t], h)
            h_last = torch.where((lengths == t + 1).unsqueeze(1), h, h_last)
        return self.log_softmax(self.fc(h_last))


def make_optimizer(model, learning_rate):
    return torch.optim.SGD(model.parameters(), lr=learning_rate)


def train_step(model, optimizer, x, lengths, labels):
    model.steps += 1
    return math.log(15) * 0.99**model.steps
