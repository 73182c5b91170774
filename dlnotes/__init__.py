"""dlnotes: the small library behind the book's verified deep-learning lecture notes.

Every chapter derives an answer in prose and mathematics, then confirms it with
these functions.  ``check`` is how a claim is verified; ``device`` and ``seed``
make a notebook run the same way on every machine; ``exercises.check_answer``
lets a reader check an exercise answer without seeing the solution.
"""

import sys as _sys

try:
    from dlnotes import exercises
    from dlnotes.checking import CheckFailed, Checked, check, check_bound
    from dlnotes.runtime import device, generator, numpy_rng, rand, randint, randn, seed, seed_offset
except Exception:
    # `python -m dlnotes.doctor` must be able to report a missing or broken torch/NumPy itself.
    if _sys.orig_argv[1:3] != ["-m", "dlnotes.doctor"]:
        raise

__all__ = ["CheckFailed", "Checked", "check", "check_bound", "device", "exercises", "generator", "numpy_rng", "rand",
           "randint", "randn", "seed", "seed_offset"]
__version__ = "0.1.0"
