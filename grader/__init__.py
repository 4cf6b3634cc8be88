"""grader: an autograder for a deep-learning course module on recurrent neural networks."""

__version__ = "0.1.0"
