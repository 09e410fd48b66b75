"""Kubernetes API emulator used by the project's tests (see emulator.py)."""
