"""Shared test settings."""

from hypothesis import settings

# Property tests check values, not speed: on a shared 2-core machine a single
# example can take longer than hypothesis's default 200 ms deadline, which
# would fail a correct test at random.
settings.register_profile("dlnotes", deadline=None)
settings.load_profile("dlnotes")
