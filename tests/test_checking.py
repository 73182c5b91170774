"""dlnotes.check must never pass on a wrong value, and must say clearly why it failed."""

import math

import numpy as np
import pytest
import torch
from hypothesis import assume, given
from hypothesis import strategies as st

import dlnotes
from dlnotes import CheckFailed, check, check_bound


def test_passes_within_tolerance_and_prints_one_line(capsys):
    record = check("softmax(2, 1, 0)", [0.66524095580, 0.2447284711, 0.0900305732],
                   [0.6652409558, 0.2447284711, 0.0900305732], atol=1e-9)
    line = capsys.readouterr().out.strip()
    assert line == str(record)
    assert line == "✔ check softmax(2, 1, 0) — [0.6652409558, 0.2447284711, 0.0900305732] (atol 1e-09)"


def test_check_failed_is_an_assertion_error():
    assert issubclass(CheckFailed, AssertionError)


def test_failure_message_names_claim_actual_expected_and_worst_error():
    with pytest.raises(CheckFailed) as info:
        check("the answer", 0.5, 0.25, atol=1e-3)
    message = str(info.value)
    assert "the answer" in message and "0.5" in message and "0.25" in message
    assert "worst error 0.25" in message


@pytest.mark.parametrize(
    "actual, expected, kwargs",
    [
        (1.0, 1.0 + 1e-6, {}),  # exact by default
        (1.0, 1.001, {"rtol": 1e-4}),
        (torch.tensor([1.0, 2.0]), torch.tensor([1.0, 2.1]), {"atol": 0.01}),
        (np.array([[1.0]]), np.array([[1.5]]), {"atol": 0.1}),
        (64, 63, {}),  # integers are exact
        ([1, 2, 3], [1, 2, 4], {}),
        ("argmax", "argmin", {}),
        (True, False, {}),
        (float("nan"), 1.0, {"atol": 0.5}),
        (torch.tensor([float("nan")]), torch.tensor([0.0]), {"atol": 0.1}),
        (math.inf, 1e308, {"rtol": 0.5}),
        (-math.inf, math.inf, {}),
        ({"a": 1.0, "b": 2.0}, {"a": 1.0, "b": 2.5}, {"atol": 0.1}),
        ({"a": 1.0}, {"a": 1.0, "b": 2.0}, {}),
        ([(1, "x"), (2, "y")], [(1, "x"), (2, "z")], {}),
    ],
)
def test_wrong_values_fail(actual, expected, kwargs):
    with pytest.raises(CheckFailed):
        check("claim", actual, expected, **kwargs)


@pytest.mark.parametrize(
    "actual, expected",
    [
        (torch.ones(3), 1.0),  # no broadcasting of a scalar
        (torch.ones(3, 1), torch.ones(3)),
        (torch.ones(2, 3), torch.ones(3, 2)),
        ([1.0, 2.0], [1.0, 2.0, 3.0]),
        (np.ones(4), np.ones((2, 2))),
    ],
)
def test_shapes_must_match_exactly(actual, expected):
    with pytest.raises(CheckFailed, match="shape|length"):
        check("claim", actual, expected, atol=1e-3)


def test_bool_does_not_pass_as_integer():
    with pytest.raises(CheckFailed):
        check("claim", True, 1)
    with pytest.raises(CheckFailed):
        check("claim", 1, True)


def test_integer_comparison_is_exact_even_for_huge_values():
    check("big", 2**80 + 1, 2**80 + 1)
    with pytest.raises(CheckFailed):
        check("big", 2**80, 2**80 + 1)


def test_integer_tensors_compare_exactly():
    check("counts", torch.tensor([1, 2, 3]), [1, 2, 3])
    with pytest.raises(CheckFailed):
        check("counts", torch.tensor([1, 2, 3]), [1, 2, 4])


def test_tolerance_must_be_meaningful():
    with pytest.raises(ValueError, match="rtol"):
        check("claim", 1.0, 1.0, rtol=1.0)
    with pytest.raises(ValueError, match="atol"):
        check("claim", 0.3, 0.5, atol=0.5)  # atol as large as the value proves nothing
    with pytest.raises(ValueError, match="non-negative"):
        check("claim", 1.0, 1.0, atol=-1e-9)
    with pytest.raises(ValueError, match="finite"):
        check("claim", 1.0, 1.0, atol=math.nan)
    with pytest.raises(TypeError):
        check("claim", 1.0, 1.0, atol="1e-9")


def test_nan_in_expected_is_a_malformed_check():
    with pytest.raises(ValueError, match="NaN"):
        check("claim", 1.0, math.nan, atol=1.0)


def test_name_is_required():
    with pytest.raises(TypeError):
        check("", 1, 1)
    with pytest.raises(TypeError):
        check(None, 1, 1)  # type: ignore[arg-type]


def test_matching_infinities_pass():
    check("overflow", math.inf, math.inf)
    check("masked scores", torch.tensor([-math.inf, 1.0]), [-math.inf, 1.0], atol=1e-12)


def test_gradients_and_devices_are_handled():
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    check("grad tensor", x * 2, [2.0, 4.0], atol=1e-12)


def test_computed_reference_is_shown_by_shape_only(capsys):
    check("matrix", torch.eye(3), torch.eye(3), atol=1e-12)
    assert "matches the reference of shape (3, 3)" in capsys.readouterr().out


def test_nested_sequences_and_mappings():
    check("trajectory", [(0, 1), (-1, 0)], [(0, 1), (-1, 0)])
    check("terms", {"elbo": -1.0034674254, "kl": 0.0871766936}, {"elbo": -1.0034674254, "kl": 0.0871766936},
          atol=1e-12)
    check("tokens", ("B", "B"), ("B", "B"))


@given(st.floats(-1e6, 1e6, allow_nan=False), st.floats(1e-9, 1e-3))
def test_property_never_passes_outside_tolerance(value, tolerance):
    assume(value == 0 or abs(value) > tolerance)  # otherwise the tolerance itself is refused
    wrong = value + 2 * tolerance + 2 * abs(value) * 1e-15
    with pytest.raises(CheckFailed):
        check("claim", wrong, value, atol=tolerance)
    check("claim", value + tolerance / 2, value, atol=tolerance)


def test_check_bound():
    check_bound("error below bound", torch.tensor([0.1, 0.2]), upper=0.25)
    check_bound("positive", 3.0, lower=0.0)
    with pytest.raises(CheckFailed, match="above the upper bound"):
        check_bound("error below bound", [0.1, 0.3], upper=0.25)
    with pytest.raises(CheckFailed, match="below the lower bound"):
        check_bound("positive", -1.0, lower=0.0)
    with pytest.raises(CheckFailed, match="NaN"):
        check_bound("finite", math.nan, upper=1.0)
    with pytest.raises(ValueError):
        check_bound("nothing", 1.0)
    with pytest.raises(TypeError):
        check_bound("nothing", "1.0", upper=2.0)


def test_public_names():
    assert dlnotes.check is check and dlnotes.CheckFailed is CheckFailed


def test_name_cannot_break_the_check_line():
    check("n = 4: a colon is fine", 1, 1)
    with pytest.raises(ValueError, match="separates the name"):
        check("claim — with the separator", 1, 1)
    with pytest.raises(ValueError):
        check_bound("two\nlines", 1.0, upper=2.0)


# --------------------------------------------------------------------------- how stated values are shown


def _line(capsys, *args, **kwargs) -> str:
    check(*args, **kwargs)
    return capsys.readouterr().out.strip()


def test_a_tuple_mixing_bools_and_ints_shows_as_written_and_compares_bools_as_bools(capsys):
    assert _line(capsys, "XOR (converged, cycled, length)", (False, True, 1), (False, True, 1)) \
        == "✔ check XOR (converged, cycled, length) — (False, True, 1) (exact)"
    with pytest.raises(CheckFailed):
        check("ints are not bools", (0, 1, 1), (False, True, 1))
    with pytest.raises(CheckFailed):
        check("bools are not ints", (False, True, True), (False, True, 1))


def test_dicts_show_keys_and_values_readably_without_truncation(capsys):
    shapes = {"in_proj_weight": (2304, 768), "in_proj_bias": (2304,), "out_proj.weight": (768, 768),
              "out_proj.bias": (768,)}
    line = _line(capsys, "parameter shapes", dict(shapes), shapes)
    # no thousands separators inside a collection, where commas already separate the values
    assert line == ("✔ check parameter shapes — {'in_proj_weight': (2304, 768), 'in_proj_bias': (2304,), "
                    "'out_proj.weight': (768, 768), 'out_proj.bias': (768,)} (exact)")
    counts = {"with biases": [16640, 2362368], "without": [16384, 2359296]}
    assert "{'with biases': [16640, 2362368], 'without': [16384, 2359296]}" in \
        _line(capsys, "counts", counts, counts)


def test_lists_of_up_to_32_values_show_in_full_and_longer_ones_show_their_ends(capsys):
    twelve = [2362368] * 12
    assert _line(capsys, "twelve counts", twelve, twelve) == \
        "✔ check twelve counts — [" + ", ".join(["2362368"] * 12) + "] (exact)"
    forty = list(range(40))
    assert _line(capsys, "forty", forty, forty) == "✔ check forty — [0, 1, 2, 3, …, 39] (40 values) (exact)"


def test_large_floats_get_thousands_separators(capsys):
    assert _line(capsys, "a float count", 2362368.0, 2362368.0) == "✔ check a float count — 2,362,368 (exact)"
    assert _line(capsys, "a small float", 0.0267, 0.0267) == "✔ check a small float — 0.0267 (exact)"


def test_the_ledger_parses_the_new_check_lines(capsys):
    from tools.sphinx_ext import _CHECK_LINE

    cases = [("mixed", (False, True, 1), {}), ("a dict", {"a": (1, 2)}, {}), ("long", list(range(40)), {}),
             ("near", [0.0267, 0.08], {"atol": 5e-5}), ("nested", (("a",), 0.08), {"atol": 1e-15})]
    for name, value, kwargs in cases:
        record = check(name, value, value, **kwargs)
        match = _CHECK_LINE.match(capsys.readouterr().out.strip())
        assert match, record
        assert (match["name"], match["expected"], match["tolerance"]) == (name, record.expected, record.tolerance)
