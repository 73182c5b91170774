"""Maintenance commands for the book itself (pairing, execution, ledger); not used by the chapters."""
