"""Tests of the numpy-sort helpers (facenet_scripts.numpy_sort, numpy_sort_env) and golden_argsort.py:
each environment really makes numpy run the sort it names, the sorts really differ on ties, and the
script's output is the committed golden file."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import facenet_scripts
import golden_argsort

ROOT = Path(__file__).resolve().parents[2]
SCRIPTS = ROOT / "scripts"
GOLDEN = ROOT / "testdata" / "npsort" / "argsort.json"

CHILD = ("import json, sys, facenet_scripts, numpy as np; "
         "print(json.dumps([facenet_scripts.numpy_sort(), np.argsort(np.array(json.load(sys.stdin))).tolist()]))")


def child(sort, keys):
    env = facenet_scripts.numpy_sort_env(sort)
    env["PYTHONPATH"] = str(SCRIPTS)
    out = subprocess.run([sys.executable, "-c", CHILD], input=json.dumps(keys), env=env,
                         capture_output=True, text=True, check=True).stdout
    return json.loads(out)


def runnable():
    from numpy._core._multiarray_umath import __cpu_features__ as f
    return [s for s in facenet_scripts.NUMPY_SORTS if s == "baseline" or f.get(s)]


def test_each_environment_runs_its_sort_and_ties_differ():
    keys = np.random.default_rng(3).integers(0, 3, 300).astype(float).tolist()
    orders = {}
    for sort in runnable():
        got, order = child(sort, keys)
        assert got == sort
        assert sorted(order) == list(range(len(keys)))
        assert all(keys[a] <= keys[b] for a, b in zip(order, order[1:]))
        orders[sort] = order
    assert len(set(map(tuple, orders.values()))) == len(orders), "each sort orders the ties its own way"


def test_unknown_sort_is_refused():
    with pytest.raises(ValueError, match="unknown numpy sort"):
        facenet_scripts.numpy_sort_env("AVX9")


def test_script_reproduces_the_golden_file(tmp_path):
    if "AVX512_SKX" not in runnable():
        with pytest.raises(SystemExit, match="no AVX512_SKX"):
            golden_argsort.main(["--out", str(tmp_path / "a.json")])
        return
    golden_argsort.main(["--out", str(tmp_path / "a.json")])
    assert json.loads((tmp_path / "a.json").read_text()) == json.loads(GOLDEN.read_text())
