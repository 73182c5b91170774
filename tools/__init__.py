"""The book's build machinery: notebook pairing and the execution cache, the Sphinx
extension, the install cell, the benchmark and the audits.

Not part of the ``dlnotes`` package that readers install: run these from the
repository root as ``python -m tools.<name>`` (the Makefile does); Sphinx loads
``tools.sphinx_ext`` through ``local_extensions`` in ``_config.yml``.
"""
