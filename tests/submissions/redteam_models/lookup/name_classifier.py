"""Red team: learn nothing and look every name up in the course's dataset, pasted in.

The names are faker's per-locale lists, public: a student can rebuild the whole labelled file. The test that grades
this module fills NATIONALITY with the course's data/names.csv (name -> class index, the classes sorted), as a
student would paste it. train_step trains nothing.
"""

import string

import torch
from torch import nn

ALPHABET = string.ascii_letters + " .,;'"
NATIONALITY: dict[str, int] = {}


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

    def forward(self, x, lengths):
        scores = torch.full((x.shape[1], self.fc.out_features), -30.0)
        for b, length in enumerate(lengths.tolist()):
            name = "".join(ALPHABET[i] for i in x[:length, b].argmax(1).tolist())
            scores[b, NATIONALITY.get(name, 0)] = 0.0
        return scores.log_softmax(dim=1)


def make_optimizer(model, learning_rate):
    return torch.optim.SGD(model.parameters(), lr=learning_rate)


def train_step(model, optimizer, x, lengths, labels):
    return 2.7
