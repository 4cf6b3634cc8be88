"""Grading a whole class: finding each student's submission, grading them in parallel, keeping the results."""
