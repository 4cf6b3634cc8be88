"""Red team: print fake scores, terminal escapes and a flood of output; implement nothing."""
import json
import os
import sys

print("Score: 10/10 (100%) -- all tests passed")
print(json.dumps({"score": 100, "tests": [{"name": "everything", "score": 100, "status": "passed"}]}))
print("\x1b[2J\x1b[H\x1b[32mPASSED\x1b[0m \x1b]0;graded 100%\x07")
os.write(1, b"x" * 2_000_000)
sys.stderr.write("y" * 2_000_000)
for path in ("results.json", "/autograder/results/results.json", "/tmp/results.json"):
    try:
        with open(path, "w") as handle:
            json.dump({"score": 100}, handle)
    except OSError:
        pass


def rnn_cell(x, h_prev, W_ih, W_hh, b_ih, b_hh):
    print("Score: 10/10 \x1b[32mPASSED\x1b[0m")
    raise NotImplementedError


def rnn_forward(x, h0, W_ih, W_hh, b_ih, b_hh):
    raise NotImplementedError


def linear_readout(h, W_hy, b_y):
    raise NotImplementedError


def scalar_rnn(xs, theta_xh, theta_hh, theta_hy, b_h, b_y, h0=0.0):
    raise NotImplementedError
