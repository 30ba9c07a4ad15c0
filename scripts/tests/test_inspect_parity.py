"""Checks the reference side of `facenet inspect`'s parity tests.

The Go tests get saved_model_cli's output from savedmodel/smcli/testdata/smcli_show.py, which runs
saved_model_cli's own parser and show() for many flag sets in one Python process (one TensorFlow
import instead of one per flag set). These tests hold that shortcut to the real thing: for
half_plus_two and a TF2 fixture, its output must equal what the `saved_model_cli` program prints.
"""

import ast
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DRIVER = ROOT / "savedmodel" / "smcli" / "testdata" / "smcli_show.py"
CLI = Path(sys.executable).parent / "saved_model_cli"
FIXTURES = ROOT / "testdata" / "savedmodel"
ENV = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
OPS = re.compile(r"^(The MetaGraph with tag set .* contains the following ops: )(\{.*\}|set\(\))$", re.M)


def normalize(text):
    """Python prints op sets in hash order, which changes from process to process: sort them."""
    return OPS.sub(lambda m: m.group(1) + str(sorted(ast.literal_eval(m.group(2)))), text)


@pytest.fixture(scope="module")
def driver_cases():
    dirs = [str(FIXTURES / "half_plus_two"), str(FIXTURES / "tf_functions")]
    out = subprocess.run([sys.executable, str(DRIVER)] + [a for d in dirs for a in ("--dir", d)],
                         check=True, capture_output=True, text=True, env=ENV).stdout
    return {tuple(c["args"]): c for c in json.loads(out)}


@pytest.mark.parametrize("model,flags", [
    ("half_plus_two", []),
    ("half_plus_two", ["--tag_set", "serve"]),
    ("half_plus_two", ["--tag_set", "serve", "--signature_def", "classify_x_to_y"]),
    ("tf_functions", ["--all"]),
])
def test_driver_matches_saved_model_cli(driver_cases, model, flags):
    if not CLI.is_file():
        pytest.fail(f"no saved_model_cli next to {sys.executable}: run `make setup`")
    args = ["--dir", str(FIXTURES / model)] + flags
    case = driver_cases[tuple(args)]
    assert case["error"] is None
    real = subprocess.run([str(CLI), "show"] + args, check=True, capture_output=True, text=True, env=ENV).stdout
    assert normalize(case["stdout"]) == normalize(real)


def test_driver_records_errors(driver_cases):
    case = driver_cases[("--dir", str(FIXTURES / "half_plus_two"), "--tag_set", "no-such-tag")]
    assert case["error"].startswith("RuntimeError: MetaGraphDef associated with tag-set no-such-tag")
    assert case["stdout"] == ""


def test_driver_help():
    out = subprocess.run([sys.executable, str(DRIVER), "--help"], check=True, capture_output=True, text=True).stdout
    assert "--dir" in out
