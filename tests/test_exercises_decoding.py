"""The answer checker of the chapter *Greedy decoding versus beam search*, audited by brute force.

Every reference answer and every registered mistake is compared with what beam search, greedy
decoding and exhaustive enumeration (:mod:`dlnotes.decoding`) actually do, not with the formulas the
checker itself uses.
"""

import random

import pytest

from dlnotes.decoding import EOS, beam_search, best_sequence, greedy_decode, sequence_probabilities, table_lm
from dlnotes.exercises import check_answer
from dlnotes.exercises.engine import REGISTRY


def uniform_lm(vocab_size: int):
    """Every token and <eos> equally likely after every prefix: every sequence has positive probability."""
    share = 1 / (vocab_size + 1)
    return lambda prefix: {**{f"t{i}": share for i in range(vocab_size)}, EOS: share}


def enumerated_count(V: int, T: int) -> int:
    return len(sequence_probabilities(uniform_lm(V), max_len=T))


SMALL = [(V, T) for V in range(1, 5) for T in range(1, 5)]


# --------------------------------------------------------------------------- greedy-vs-beam-count


def test_count_reference_equals_enumeration():
    reference = REGISTRY["greedy-vs-beam-count"].reference
    assert all(reference(V, T) == enumerated_count(V, T) for V, T in SMALL)
    assert check_answer("greedy-vs-beam-count", lambda V, T: V**T + sum(V**t for t in range(T)))


def test_count_mistakes_are_wrong_somewhere_the_checker_looks():
    for mistake in REGISTRY["greedy-vs-beam-count"].mistakes:
        assert any(mistake.value(V, T) != enumerated_count(V, T) for V, T in SMALL), mistake.hint


def _random_lm(rng: random.Random, vocab=("a", "b", "c"), max_len: int = 3):
    table = {}

    def fill(prefix):
        weights = [rng.random() for _ in range(len(vocab) + 1)]
        table[prefix] = {tok: w / sum(weights) for tok, w in zip((*vocab, EOS), weights)}
        if len(prefix) < max_len - 1:
            for tok in vocab:
                fill(prefix + (tok,))

    fill(())
    return table_lm(table)


def test_width_ten_is_exact_for_every_random_model_with_three_tokens_and_length_three():
    rng = random.Random(12345)
    for _ in range(300):
        lm = _random_lm(rng)
        assert beam_search(lm, beam_width=10, max_len=3) == best_sequence(lm, max_len=3)


def test_width_nine_is_not_exact_for_every_such_model():
    after_two = {"a": 0.25, "b": 0.25, "c": 0.25, EOS: 0.25}
    lm = table_lm({
        (): {"a": 0.4, "b": 0.29, "c": 0.29, EOS: 0.02},
        ("a",): {"a": 0.8 / 3, "b": 0.8 / 3, "c": 0.8 / 3, EOS: 0.2},
        ("b",): {"a": 0.33, "b": 0.33, "c": 0.33, EOS: 0.01},
        ("c",): {"a": 0.33, "b": 0.33, "c": 0.33, EOS: 0.01},
        **{(x, y): after_two for x in "abc" for y in "abc"},
    })
    assert len(sequence_probabilities(lm, max_len=3)) == 40
    assert best_sequence(lm, max_len=3)[0] == ("a",)
    assert beam_search(lm, beam_width=9, max_len=3)[0] == ("a", "a")
    assert beam_search(lm, beam_width=10, max_len=3)[0] == ("a",)


# --------------------------------------------------------------------------- greedy-vs-beam-width-one


def test_width_one_equals_greedy_when_ties_break_alike_and_differs_when_they_do_not():
    rng = random.Random(7)
    for _ in range(100):
        lm = _random_lm(rng)
        assert beam_search(lm, beam_width=1, max_len=3) == greedy_decode(lm, max_len=3)
    # a greedy decoder that breaks ties the other way (last token in string order) parts ways
    tie = table_lm({(): {"A": 0.5, "B": 0.5, EOS: 0.0}, ("A",): {"A": 0.0, "B": 0.0, EOS: 1.0},
                    ("B",): {"A": 0.0, "B": 0.0, EOS: 1.0}})
    first = tie(())
    other_rule = max(first, key=lambda t: (first[t], t))
    assert (other_rule,) != beam_search(tie, beam_width=1, max_len=3)[0]


def test_width_one_checker_wants_the_assumption_and_explains_none():
    assert check_answer("greedy-vs-beam-width-one", "ties")
    verdict = check_answer("greedy-vs-beam-width-one", "none")
    assert not verdict and "assumption" in verdict.message


# --------------------------------------------------------------------------- greedy-vs-beam-ratio


def first_model(p: float):
    end = {"A": 0.0, "B": 0.0, EOS: 1.0}
    return table_lm({
        (): {"A": 0.6, "B": 0.4, EOS: 0.0},
        ("A",): {"A": 0.5, "B": 0.5, EOS: 0.0},
        ("B",): {"A": 1 - p, "B": p, EOS: 0.0},
        ("A", "A"): end, ("A", "B"): end, ("B", "A"): end, ("B", "B"): end,
    })


def beam_wins(p: float) -> bool:
    return beam_search(first_model(p), beam_width=2, max_len=5)[1] > greedy_decode(first_model(p), max_len=5)[1] + 1e-12


# a grid that keeps clear of the two boundaries, where floating point decides a tie
GRID = [i / 200 for i in range(201) if abs(i / 200 - 0.25) > 1e-9 and abs(i / 200 - 0.75) > 1e-9]


def predicted(answer, p: float) -> bool:
    p_low, p_high, _ = answer
    return p < p_low or p > p_high


def test_ratio_reference_describes_where_beam_search_wins():
    reference = REGISTRY["greedy-vs-beam-ratio"].reference
    assert all(predicted(reference, p) == beam_wins(p) for p in GRID)
    ratio = beam_search(first_model(1.0), beam_width=2, max_len=5)[1] / greedy_decode(first_model(1.0), max_len=5)[1]
    assert abs(ratio - reference[2]) < 1e-12
    assert [beam_wins(p) for p in (0.1, 0.2)] == [True, True]
    assert check_answer("greedy-vs-beam-ratio", reference)


def test_ratio_mistakes_misdescribe_it_and_the_old_answer_is_refused():
    ex = REGISTRY["greedy-vs-beam-ratio"]
    for mistake in ex.mistakes:
        answer = mistake.sample
        thresholds_wrong = any(predicted(answer, p) != beam_wins(p) for p in GRID)
        assert thresholds_wrong or abs(answer[2] - ex.reference[2]) > 1e-6, mistake.hint
        assert check_answer("greedy-vs-beam-ratio", answer).message == mistake.hint
    # the incomplete answer "p > 3/4", written with p_low = 0, is rejected with the hint about BA
    verdict = check_answer("greedy-vs-beam-ratio", (0.0, 0.75, 4 / 3))
    assert not verdict and "BA" in verdict.message
    # and the old two-part answer is not the right kind any more
    assert check_answer("greedy-vs-beam-ratio", (0.75, 4 / 3)).status == "wrong kind"


@pytest.mark.parametrize("p", [0.1, 0.2])
def test_beam_returns_ba_for_small_p(p):
    assert beam_search(first_model(p), beam_width=2, max_len=5)[0] == ("B", "A")
