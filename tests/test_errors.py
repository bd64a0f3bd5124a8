"""The wording helpers of error messages."""

from ldnn_tune.errors import number_ranges


def test_number_ranges_join_consecutive_numbers_in_order() -> None:
    assert number_ranges([9, 0, 1, 2, 7, 3, 4, 10, 12, 11]) == "0-4, 7, 9-12"
    assert number_ranges([5, 5]) == "5"
    assert number_ranges([]) == ""
