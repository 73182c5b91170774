"""Every public dlnotes function rejects malformed input with TypeError or ValueError.

Hypothesis replaces one argument of a valid call with something malformed (the
wrong type, NaN or infinity, an empty or wrongly shaped tensor, an integer or
boolean tensor, a negative or fractional count, ...).  The function may refuse
it, but only with ``TypeError`` or ``ValueError``; it may also accept it when the
value happens to be valid, but then its result must contain no NaN.  An
``IndexError``, a torch ``RuntimeError`` or a silent NaN fails the test.

``VALID_CALLS`` holds one valid call per public function; a public function
without an entry fails ``test_every_public_function_is_covered``, so a new
function cannot escape this test.
"""

from __future__ import annotations

import importlib
import inspect
import math
from collections.abc import Callable, Mapping
from typing import Any

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

MODULES = [
    "dlnotes.checking",
    "dlnotes.runtime",
    "dlnotes.attention",
    "dlnotes.basics",
    "dlnotes.decoding",
    "dlnotes.vi",
    "dlnotes.gan",
    "dlnotes.rnn",
    "dlnotes.complexity",
    "dlnotes.linear_attention",
    "dlnotes.exercises",
]

F64 = torch.float64


def _lm(prefix: tuple[str, ...]) -> dict[str, float]:
    if len(prefix) >= 2:
        return {"<eos>": 1.0}
    return {"A": 0.6, "B": 0.4} if not prefix else {"A": 0.5, "<eos>": 0.5}


def _qkv() -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(0)
    return (torch.randn(3, 4, dtype=F64, generator=g), torch.randn(5, 4, dtype=F64, generator=g),
            torch.randn(5, 2, dtype=F64, generator=g))


XOR_X = torch.tensor([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]], dtype=F64)
AND_Y = [0, 0, 0, 1]

def _rnn_args() -> tuple:
    g = torch.Generator().manual_seed(1)
    return (torch.randn(4, 3, dtype=F64, generator=g), torch.zeros(5, dtype=F64),
            torch.randn(5, 3, dtype=F64, generator=g), torch.randn(5, 5, dtype=F64, generator=g))


def _bptt_args() -> tuple:
    x, h0, W_xh, W_hh = _rnn_args()
    return (x, torch.tensor([0, 1, 1, 0]), h0, W_xh, W_hh, torch.randn(2, 5, dtype=F64))


def _matmul_args() -> tuple:
    return (torch.matmul, torch.ones(2, 3), torch.ones(3, 4))


# name -> (args, kwargs) of a valid call, optionally with the argument slots to
# fuzz.  Arguments a function only passes on to a callable of the caller's
# (count_flops's *args) are the caller's business and are not fuzzed.
VALID_CALLS: dict[str, Callable[[], tuple]] = {
    "dlnotes.checking.check": lambda: (("claim", 1.0, 1.0), {"atol": 1e-9}),
    "dlnotes.checking.check_bound": lambda: (("claim", 0.5), {"upper": 1.0}),
    "dlnotes.runtime.device": lambda: ((), {}),
    "dlnotes.runtime.seed": lambda: ((0,), {}),
    "dlnotes.runtime.randn": lambda: ((2, 3), {"dtype": F64, "device": "cpu"}),
    "dlnotes.runtime.rand": lambda: ((2, 3), {"dtype": F64, "device": "cpu"}),
    "dlnotes.runtime.randint": lambda: ((0, 5, (2, 3)), {"device": "cpu"}),
    "dlnotes.runtime.generator": lambda: ((0,), {}),
    "dlnotes.runtime.numpy_rng": lambda: ((0,), {}),
    "dlnotes.runtime.seed_offset": lambda: ((), {}),
    "dlnotes.attention.softmax": lambda: ((torch.tensor([2.0, 1.0, 0.0], dtype=F64),), {"dim": -1}),
    "dlnotes.attention.attention": lambda: (_qkv(), {"scale": None}),
    "dlnotes.attention.hard_attention": lambda: (_qkv(), {}),
    "dlnotes.attention.query_for_average": lambda: ((torch.eye(4, dtype=F64), 0, 1, 2.0), {}),
    "dlnotes.attention.mha_param_count": lambda: ((768, 12), {"bias": True, "out_proj": True}),
    "dlnotes.attention.sinusoidal_encoding": lambda: ((8, 4), {}),
    "dlnotes.attention.linear_attention": lambda: (_qkv(), {"causal": False}),
    "dlnotes.attention.layer_norm": lambda: ((torch.tensor([[1.0, 2.0, 3.0, 4.0]], dtype=F64),), {"eps": 1e-5}),
    "dlnotes.basics.step": lambda: ((torch.tensor([-1.0, 0.0, 2.0], dtype=F64),), {}),
    "dlnotes.basics.sigmoid_grad": lambda: ((torch.tensor([0.0, 2.0], dtype=F64),), {}),
    "dlnotes.basics.linearly_separable": lambda: ((XOR_X, AND_Y), {}),
    "dlnotes.basics.separating_hyperplane": lambda: ((XOR_X, AND_Y), {}),
    "dlnotes.basics.perceptron_train": lambda: ((XOR_X, AND_Y), {"lr": 1.0, "max_epochs": 50}),
    "dlnotes.basics.compose_affine": lambda: (
        ([torch.eye(2, dtype=F64), 2 * torch.eye(2, dtype=F64)], [torch.ones(2, dtype=F64), torch.zeros(2, dtype=F64)]),
        {}),
    "dlnotes.vi.gaussian_kl": lambda: ((torch.zeros(3, dtype=F64), torch.ones(3, dtype=F64), torch.ones(3, dtype=F64),
                                        2 * torch.ones(3, dtype=F64)), {}),
    "dlnotes.vi.discrete_elbo": lambda: ((torch.tensor([0.4, 0.6], dtype=F64), torch.tensor([0.7, 0.2], dtype=F64),
                                          torch.tensor([0.5, 0.5], dtype=F64)), {}),
    "dlnotes.vi.linear_gaussian_elbo": lambda: ((1.0, 0.3, 0.64), {"w": 1.0, "prior_var": 1.0, "noise_var": 1.0}),
    "dlnotes.gan.gda": lambda: ((1.0, 1.0), {"lr": 1.0, "steps": 6, "method": "alternating", "first": "p"}),
    "dlnotes.rnn.alternating_rnn": lambda: ((torch.tensor([3.0, 1.0, 4.0, 1.0], dtype=F64),), {"h0": 0.0, "gain": 1000.0}),
    "dlnotes.rnn.alternating_closed_form": lambda: ((torch.tensor([3.0, 1.0, 4.0], dtype=F64),), {"h0": 0.5}),
    "dlnotes.rnn.rnn_forward": lambda: (_rnn_args(), {"b": None, "nonlinearity": "tanh"}),
    "dlnotes.rnn.bptt_gradients": lambda: (_bptt_args(), {}),
    "dlnotes.complexity.count_flops": lambda: (_matmul_args(), {}, [("arg", 0)]),
    "dlnotes.complexity.count_matmul_calls": lambda: (_matmul_args(), {}, [("arg", 0)]),
    "dlnotes.complexity.saved_activation_bytes": lambda: (
        (lambda a: (a * 2).sin(), torch.ones(3, requires_grad=True)), {"exclude": ()}, [("arg", 0), ("kw", "exclude")]),
    "dlnotes.complexity.time_sweep": lambda: (
        (lambda size: (lambda: torch.ones(size).sum()), [4, 8]),
        {"repeats": 2, "warmup": 0, "statistic": "median", "clock": "wall"},
        # the sizes are handed to the caller's make_call, whose business they are
        [("arg", 0), ("kw", "repeats"), ("kw", "warmup"), ("kw", "statistic"), ("kw", "clock")]),
    "dlnotes.complexity.rnn_flops": lambda: ((100, 256, 4), {"batch": 1}),
    "dlnotes.complexity.transformer_flops": lambda: ((100, 256, 4), {"batch": 1}),
    "dlnotes.complexity.attention_flops": lambda: ((100, 64), {"batch": 1}),
    "dlnotes.complexity.restricted_attention_flops": lambda: ((100, 64, 8), {"batch": 1}),
    "dlnotes.complexity.fit_exponent": lambda: (([1.0, 2.0, 4.0], [1.0, 4.0, 16.0]), {"method": "lstsq"}),
    "dlnotes.complexity.init_rnn": lambda: ((8, 2), {"dtype": F64}),
    "dlnotes.complexity.init_transformer": lambda: ((8, 2), {"dtype": F64}),
    "dlnotes.complexity.reference_rnn": lambda: (
        (torch.randn(5, 8, dtype=F64), importlib.import_module("dlnotes.complexity").init_rnn(8, 2, dtype=F64)), {}),
    "dlnotes.complexity.reference_transformer": lambda: (
        (torch.randn(5, 8, dtype=F64), importlib.import_module("dlnotes.complexity").init_transformer(8, 2, dtype=F64)),
        {"heads": 2, "causal": False}),
    "dlnotes.complexity.restricted_attention": lambda: (
        (torch.randn(6, 4, dtype=F64), torch.randn(6, 4, dtype=F64), torch.randn(6, 4, dtype=F64), 2), {}),
    "dlnotes.linear_attention.linear_attention": lambda: (_qkv(), {"causal": False}),
    "dlnotes.linear_attention.elu_feature_map": lambda: ((torch.randn(3, 4, dtype=F64),), {}),
    "dlnotes.exercises.check_answer": lambda: (("soft-lookup-margin", 14.5077), {}),
    "dlnotes.exercises.list_exercises": lambda: ((), {}),
    "dlnotes.decoding.table_lm": lambda: (({(): {"A": 0.5, "<eos>": 0.5}, ("A",): {"<eos>": 1.0}},), {}),
    "dlnotes.decoding.greedy_decode": lambda: ((_lm,), {"max_len": 3}),
    "dlnotes.decoding.beam_search": lambda: ((_lm,), {"beam_width": 2, "max_len": 3}),
    "dlnotes.decoding.sequence_probabilities": lambda: ((_lm,), {"max_len": 3}),
    "dlnotes.decoding.best_sequence": lambda: ((_lm,), {"max_len": 3}),
}

# A malformed value is made fresh for every example (tensors are mutable).
BAD_VALUES: list[Callable[[], Any]] = [
    lambda: None,
    lambda: "text",
    lambda: True,
    lambda: 3.5,
    lambda: -1,
    lambda: 0,
    lambda: math.nan,
    lambda: math.inf,
    lambda: [],
    lambda: [[1.0, 2.0], [3.0]],
    lambda: object(),
    lambda: {"A": 2.0},
    lambda: (lambda *args, **kwargs: None),
    lambda: torch.tensor(math.nan, dtype=F64),
    lambda: torch.empty(0, dtype=F64),
    lambda: torch.zeros(2, 3, 4, 5, dtype=F64),
    lambda: torch.zeros(7, dtype=F64),
    lambda: torch.randn(3, 2, dtype=F64),
    lambda: torch.ones(3, dtype=torch.int64),
    lambda: torch.ones(3, dtype=torch.bool),
    lambda: torch.full((5, 4), math.nan, dtype=F64),
    lambda: torch.full((4,), math.inf, dtype=F64),
    lambda: torch.ones(3, dtype=torch.complex64),
]


# A check's designed answer to a wrong value is CheckFailed (an AssertionError).
ALSO_ALLOWED: dict[str, tuple[type[BaseException], ...]] = {
    "dlnotes.checking.check": (importlib.import_module("dlnotes.checking").CheckFailed,),
    "dlnotes.checking.check_bound": (importlib.import_module("dlnotes.checking").CheckFailed,),
}


def public_functions() -> list[str]:
    names = []
    for module_name in MODULES:
        module = importlib.import_module(module_name)
        for name in getattr(module, "__all__", []):
            obj = getattr(module, name)
            if inspect.isfunction(obj):
                names.append(f"{module_name}.{name}")
    return names


def resolve(qualified: str) -> Callable:
    module, name = qualified.rsplit(".", 1)
    return getattr(importlib.import_module(module), name)


def has_nan(value: Any) -> bool:
    if isinstance(value, torch.Tensor):
        return value.is_floating_point() and bool(torch.isnan(value).any())
    if isinstance(value, float):
        return math.isnan(value)
    if isinstance(value, Mapping):
        return any(has_nan(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return any(has_nan(v) for v in value)
    if hasattr(value, "__dict__") and not callable(value):
        return any(has_nan(v) for v in vars(value).values())
    return False


def test_every_public_function_is_covered():
    missing = sorted(set(public_functions()) - set(VALID_CALLS))
    assert missing == [], f"public functions without a valid call in VALID_CALLS: {missing}"


@pytest.mark.parametrize("qualified", sorted(VALID_CALLS))
def test_valid_call_works(qualified):
    args, kwargs = VALID_CALLS[qualified]()[:2]
    assert not has_nan(resolve(qualified)(*args, **kwargs))


@pytest.mark.parametrize("qualified", sorted(q for q in VALID_CALLS if VALID_CALLS[q]()[:2] != ((), {})))
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_malformed_argument_is_refused_cleanly(qualified, data):
    function = resolve(qualified)
    call = VALID_CALLS[qualified]()
    args, kwargs = call[:2]
    slots = call[2] if len(call) > 2 else [("arg", i) for i in range(len(args))] + [("kw", k) for k in kwargs]
    kind, where = data.draw(st.sampled_from(slots), label="argument")
    bad = data.draw(st.sampled_from(BAD_VALUES), label="malformed value")()
    problem = call_with(function, args, kwargs, (kind, where), bad, ALSO_ALLOWED.get(qualified, ()))
    assert problem is None, f"{qualified}: {problem}"


def call_with(function: Callable, args: tuple, kwargs: dict, slot: tuple[str, Any], bad: Any,
              allowed: tuple[type[BaseException], ...] = ()) -> str | None:
    """Call ``function`` with one argument replaced; describe what went wrong, or return None."""
    args, kwargs = list(args), dict(kwargs)
    kind, where = slot
    if kind == "arg":
        args[where] = bad
    else:
        kwargs[where] = bad
    try:
        result = function(*args, **kwargs)
    except (TypeError, ValueError, *allowed):
        return None
    except Exception as err:  # noqa: BLE001 - any other exception is the defect being looked for
        return f"{type(err).__name__} for {kind} {where} = {bad!r}: {err}"
    if has_nan(result):
        return f"returned NaN for {kind} {where} = {bad!r}"
    return None


@pytest.mark.filterwarnings("ignore:Casting complex values")
def test_the_fuzzer_catches_a_leaky_function():
    def leaky_index(x: torch.Tensor) -> torch.Tensor:
        return torch.as_tensor(x)[2]  # no validation: IndexError on short input

    def leaky_log(x: torch.Tensor) -> torch.Tensor:
        return torch.log(torch.as_tensor(x, dtype=F64)).sum()  # no validation: NaN for negative input

    found = " ".join(
        problem
        for leaky in (leaky_index, leaky_log)
        for make in BAD_VALUES
        if (problem := call_with(leaky, (torch.ones(3, dtype=F64),), {}, ("arg", 0), make()))
    )
    assert "IndexError" in found and "NaN" in found
