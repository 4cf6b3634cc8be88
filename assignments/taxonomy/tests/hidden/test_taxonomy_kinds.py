"""PROBLEM_KINDS against the answer key. Failure messages name the wrong entries, never the right kinds."""

import pytest

from grader.checks import SIX_DECIMALS, check_value, fail
from grader.feedback import GradingFailure

pytestmark = pytest.mark.task("kinds")

KINDS = ("one_to_many", "many_to_one", "many_to_many", "many_to_many_synced")

ANSWER_KEY = {
    "image_captioning": "one_to_many",
    "sentiment_analysis": "many_to_one",
    "speech_to_text": "many_to_many",
    "machine_translation": "many_to_many",
    "named_entity_recognition": "many_to_many_synced",
    "video_frame_labeling": "many_to_many_synced",
    "time_series_forecast_next_value": "many_to_one",
}


@pytest.mark.parametrize("problem", list(ANSWER_KEY))
def test_kind_of(grade, problem):
    kinds = grade.constant("PROBLEM_KINDS")
    if not isinstance(kinds, dict):
        check_value("PROBLEM_KINDS", kinds, ANSWER_KEY, SIX_DECIMALS)  # fails: it should be a dict
    try:
        check_value(f"PROBLEM_KINDS[{problem!r}]", kinds.get(problem), ANSWER_KEY[problem], SIX_DECIMALS)
    except GradingFailure:
        # check_value's message would quote the right kind: say only that this entry is wrong
        wrong = f"is not the right kind (it is {kinds[problem]!r})" if problem in kinds else "is missing"
        raise fail(
            "value",
            "PROBLEM_KINDS",
            f"PROBLEM_KINDS[{problem!r}] {wrong}; each value is one of the strings {list(KINDS)}",
        ) from None
