"""Domains: what a knob's code accepts."""

from ldnn_tune.space.domains import Domain


def test_a_true_false_domain_takes_booleans_only() -> None:
    flag = Domain(choices=(True, False))
    assert flag.allows(True) and flag.allows(False)
    assert not flag.allows(1) and not flag.allows(0)  # equal to True/False, but numbers
    assert Domain(choices=(2, 5)).allows(2.0)  # numbers still match across int and float
    assert not Domain(choices=(0, 1)).allows(True)
