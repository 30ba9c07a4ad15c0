"""Run TensorFlow's `saved_model_cli show` for every flag combination of some SavedModels.

For each --dir, the combinations are derived here, from TensorFlow's own reading of the model
(never from the Go code under test): no flags, --all, and for every tag set --tag_set, --tag_set
--list_ops, --tag_set --signature_def for every key, plus a tag set and a signature key that do not
exist. Each is parsed by saved_model_cli's own argument parser and run by its show(), all in one
Python process, because starting saved_model_cli costs ~2 s of TensorFlow import per call.

Prints a JSON list of {"args": [...], "stdout": "...", "error": "..." or null} in a fixed order.
"""

import argparse
import contextlib
import io
import json
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def combinations(saved_model_dir):
    from tensorflow.python.tools import saved_model_utils

    sm = saved_model_utils.read_saved_model(saved_model_dir)
    base = ["--dir", saved_model_dir]
    combos = [base, base + ["--all"], base + ["--tag_set", "no-such-tag"]]
    for mg in sm.meta_graphs:
        tag_set = ",".join(mg.meta_info_def.tags)
        with_tags = base + ["--tag_set", tag_set]
        combos += [with_tags, with_tags + ["--list_ops"], with_tags + ["--signature_def", "no-such-signature"]]
        combos += [with_tags + ["--signature_def", key] for key in sorted(mg.signature_def)]
    return combos


def run_show(parser, args):
    from absl import flags

    # Flag values persist between parses in one process: start every run from the defaults.
    flags.FLAGS.unparse_flags()
    namespace = parser.parse_args(["show"] + args)
    out = io.StringIO()
    error = None
    with contextlib.redirect_stdout(out):
        try:
            namespace.func()
        except Exception as e:  # saved_model_cli lets these escape as a traceback; record them
            error = f"{type(e).__name__}: {e}"
    return {"args": args, "stdout": out.getvalue(), "error": error}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dir", action="append", required=True, help="SavedModel directory (repeatable)")
    opts = ap.parse_args(argv)

    from tensorflow.python.tools import saved_model_cli

    parser = saved_model_cli.create_parser()
    results = []
    for d in opts.dir:
        for args in combinations(d):
            results.append(run_show(parser, args))
    json.dump(results, sys.stdout, indent=1)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
