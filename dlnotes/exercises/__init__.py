"""Check an answer to an exercise without being shown the solution.

Every exercise in the chapters of ``_toc.yml`` is registered here once, in book
order, under its id: the label of its ``{exercise}`` directive without the
``ex-`` prefix (the label ``ex-soft-lookup-margin`` has the id
``soft-lookup-margin``).  A chapter offers the checker right after each exercise::

    import dlnotes.exercises
    dlnotes.exercises.check_answer("soft-lookup-margin", 3.0)   # ✘ soft-lookup-margin: incorrect — ...
    dlnotes.exercises.list_exercises()                          # every id, its chapter and answer kind

:func:`check_answer` returns a :class:`Verdict` with one of three outcomes:

* ``"correct"``: the answer agrees with the derived one within the exercise's
  stated tolerance;
* ``"incorrect"``: it does not; when it matches a known mistake, the message is a
  hint written for that mistake; an answer within ten times the tolerance is told
  "close: give more digits"; a float32 answer that float32 cannot make precise
  enough is told to compute in float64; otherwise a pointer to the step to redo;
* ``"wrong kind"``: it is not the kind of answer the exercise asks for (a string
  where a number is due, a tensor of the wrong shape, NaN, a function that
  raises or returns the wrong shape); the message says what is expected.

Each exercise's prompt states the precision its checker asks for ("to 3 decimal
places", "to 5 significant digits", "within atol 1e-9, rtol 1e-9"); the kind's
``precision`` holds the same words, and ``tests/test_exercise_fuzz.py`` holds the
prompts to them.  A number may be given as a Python, NumPy or torch scalar, a 0-d
or one-element tensor or a Fraction.

An answer never makes :func:`check_answer` raise; only an unknown exercise id
does (``ValueError``).  No message, repr or exception contains the reference
solution: the solutions stay in the chapters' dropdowns.

Answers that are formulas are given as Python functions and are compared with
the reference on many inputs: a fixed, seeded set of random inputs plus edge
cases, so a function that agrees by accident at one point is not accepted.
Functions receive ``torch.float64`` tensors (shapes are stated per exercise)
and may return tensors, NumPy arrays, nested lists or Python numbers.

Where each piece lives (one module per part of the book, the exercises in
chapter order):

=======================  =====================================================
module                   what it holds
=======================  =====================================================
``engine``               :class:`Verdict`, the registry, :func:`check_answer`,
                         :func:`list_exercises`
``kinds``                the answer kinds: how an answer is read and compared
``foundations``          perceptron_xor, linear_depth, vanishing_gradients
``attention_weights``    attention_soft_lookup, attention_average,
                         multihead_parameters, hard_attention
``attention_mixing``     orthogonal_self_attention, positional_encoding,
                         token_mixing, linear_attention
``recurrent``            rnn_shapes, bptt, alternating_rnn, sequence_model_cost
``decoding``             greedy_vs_beam
``generative``           elbo, gan_dynamics
=======================  =====================================================
"""

from __future__ import annotations

from .engine import ExerciseInfo, Verdict, check_answer, list_exercises

# Importing the part modules registers their exercises; the order of these
# imports is the book order that list_exercises() returns.
from . import foundations, attention_weights, attention_mixing, recurrent, decoding, generative  # noqa: E402,F401  isort: skip

__all__ = ["Verdict", "ExerciseInfo", "check_answer", "list_exercises"]
