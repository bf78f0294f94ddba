"""A tiny TruceWatch plugin, installed by the tests (tests/test_plugins.py): a seismic
source kind, a rule and an export format, each through its entry point group."""
