"""Registers the streamconform pytest plugin when running from a checkout."""

pytest_plugins = ["harness.pytest_plugin"]
