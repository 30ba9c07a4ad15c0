"""Make the scripts importable as modules from the tests."""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
import facenet_scripts  # noqa: E402,F401  (before any test module imports numpy)
