"""The lecture's hands-on activity: classify a proper name by nationality with a character-level RNN.

    x_t = one_hot(name[t])                                            (1)  A = len(ALPHABET) letters
    h_t = tanh(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh),  h_0 = 0   (2)  torch.nn.RNNCell
    log p = LogSoftmax(h_L W_hy^T + b_y)                              (3)  L: the name's last letter
    loss = -(1/B) sum_b log p_b[y_b]                                  (4)  torch.nn.NLLLoss, the batch's mean
    theta <- theta - lr * dloss/dtheta                                (5)  torch.optim.SGD

A batch of names is time-major and zero-padded after each name's end: x is (T, B, A), T the longest name's length,
with each name's own length in ``lengths`` (B,).
"""

import string

import torch
from torch import Tensor, nn

### BEGIN SOLUTION: ALPHABET = None  # the 57 letters names are made of: see the handout
ALPHABET = string.ascii_letters + " .,;'"  # the 57 letters names are made of
### END SOLUTION


def encode_name(name: str) -> Tensor:
    """Equation (1) for every letter: name -> x (L, A) float32, row t one-hot at ALPHABET.index(name[t])."""
    ### BEGIN SOLUTION
    x = torch.zeros(len(name), len(ALPHABET))
    for t, letter in enumerate(name):
        x[t, ALPHABET.index(letter)] = 1.0  # x_t = one_hot(name[t])
    return x
    ### END SOLUTION


def encode_batch(names: list[str]) -> tuple[Tensor, Tensor]:
    """names (B of them) -> x (T, B, A) float32 zero-padded after each name, T the longest; lengths (B,) int64."""
    ### BEGIN SOLUTION
    lengths = torch.tensor([len(name) for name in names])
    x = torch.zeros(int(lengths.max()), len(names), len(ALPHABET))
    for b, name in enumerate(names):
        x[: len(name), b] = encode_name(name)
    return x, lengths
    ### END SOLUTION


class NameClassifier(nn.Module):
    """Equations (2) and (3): an RNNCell read letter by letter, a linear layer and a LogSoftmax on the last state.

    Parameters: rnn.weight_ih (H, A), rnn.weight_hh (H, H), rnn.bias_ih (H,), rnn.bias_hh (H,), fc.weight (C, H),
    fc.bias (C,).
    """

    def __init__(self, input_size: int, hidden_size: int, output_size: int) -> None:
        super().__init__()
        ### BEGIN SOLUTION
        self.hidden_size = hidden_size
        self.rnn = nn.RNNCell(input_size, hidden_size)
        self.fc = nn.Linear(hidden_size, output_size)
        self.log_softmax = nn.LogSoftmax(dim=1)
        ### END SOLUTION

    def forward(self, x: Tensor, lengths: Tensor) -> Tensor:
        """x (T, B, A), lengths (B,) -> log-probabilities (B, C), each name's from its own last letter's state."""
        ### BEGIN SOLUTION
        h = x.new_zeros(x.shape[1], self.hidden_size)  # h_0 = 0, for every name of the batch
        h_last = h
        for t in range(x.shape[0]):
            h = self.rnn(x[t], h)  # (2)
            ends_here = (lengths == t + 1).unsqueeze(1)  # the names whose last letter is x_t
            h_last = torch.where(ends_here, h, h_last)  # h_L
        return self.log_softmax(self.fc(h_last))  # (3)
        ### END SOLUTION


def make_optimizer(model: nn.Module, learning_rate: float) -> torch.optim.Optimizer:
    """Equation (5): plain SGD over all of the model's parameters."""
    ### BEGIN SOLUTION
    return torch.optim.SGD(model.parameters(), lr=learning_rate)
    ### END SOLUTION


def train_step(model: nn.Module, optimizer: torch.optim.Optimizer, x: Tensor, lengths: Tensor, labels: Tensor) -> float:
    """One step on one batch: the loss (4) of the model's log-probabilities, its gradients, the update (5);
    labels (B,) int64 class ids. Returns the loss before the update, as a float."""
    ### BEGIN SOLUTION
    optimizer.zero_grad()
    log_probs = model(x, lengths)
    loss = nn.functional.nll_loss(log_probs, labels)  # (4), the batch's mean
    loss.backward()
    optimizer.step()  # (5)
    return loss.item()
    ### END SOLUTION
