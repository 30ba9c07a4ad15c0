"""The scripts import as modules from the tests: make setup puts scripts/ on the venv's path."""

import facenet_scripts  # noqa: F401  (before any test module imports numpy)
