"""``grader ci``: a grading run in GitHub Actions, with every output GitHub shows rendered from one report."""
