"""Run a command while other processes keep the CPU cores busy (``make test-load``).

Readers run the timing chapters on laptops that are doing other things; a
timing hypothesis must hold there too.  ``python -m tools.busy --workers 2 --
CMD ...`` starts ``workers`` processes that multiply matrices without pause
(they compete for the cores and for the caches, as a browser or a build does),
runs ``CMD``, stops the workers and exits with ``CMD``'s status.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import subprocess
import sys
import time


def _burn() -> None:
    import numpy as np

    os.environ["OMP_NUM_THREADS"] = "1"
    a = np.random.default_rng(0).standard_normal((384, 384))
    while True:
        a = np.tanh(a @ a) + 1e-3


def run_loaded(command: list[str], workers: int) -> int:
    """``command``'s exit status, run while ``workers`` busy processes compete with it."""
    if workers < 0:
        raise ValueError(f"workers must be >= 0, got {workers}")
    context = mp.get_context("spawn")
    burners = [context.Process(target=_burn, daemon=True) for _ in range(workers)]
    for burner in burners:
        burner.start()
    time.sleep(0.5)  # the load is on before the command starts
    started = time.perf_counter()
    try:
        status = subprocess.call(command)
    finally:
        for burner in burners:
            burner.terminate()
            burner.join()
    print(f"tools.busy: {' '.join(command[:3])} ... exited {status} after "
          f"{time.perf_counter() - started:.0f} s beside {workers} busy processes", flush=True)
    return status


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2, help="busy processes (default: one per core)")
    parser.add_argument("command", nargs=argparse.REMAINDER, help="the command, after --")
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("give the command to run after --")
    return run_loaded(command, args.workers)


if __name__ == "__main__":
    sys.exit(main())
