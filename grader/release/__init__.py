"""``grader release``: what an instructor hands out, one module per output (student bundle, notebooks, nbgrader
source notebooks, Gradescope autograder, encrypted hidden tests)."""
