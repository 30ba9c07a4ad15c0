#!/usr/bin/env python3
"""`make bench`: the Go pipeline against the Python notebook pipeline, same model, same images, one run.

Each round runs six fresh processes (nine with --folded-model), so that a process's peak resident memory (VmHWM, which each child
reports; wait4's ru_maxrss is checked to bound it) is one mode's alone:

  py-loop      the notebook's img_to_encoding per image          (scripts/bench_python.py --mode loop)
  go-loop      Encoder.ImgToEncoding per image                   (facenet-bench -mode loop)
  floor-1      tfmodel.Predict at batch 1 on pre-made inputs     (facenet-bench -mode floor -batch 1)
  floor-B      tfmodel.Predict at batch B on pre-made inputs     (facenet-bench -mode floor -batch B)
  go-batched   Encoder.Encode, batches, decoding overlapped      (facenet-bench -mode batched)
  py-batched   the same preprocessing, model.predict in batches  (scripts/bench_python.py --mode batched)
  floor-1-folded, go-loop-folded, go-batched-folded: the Go modes on --folded-model (BatchNorm folded
               into the convolutions), against the Python modes on --model, the exact export

The order is reversed every other round, so a drift of the machine (other load, thermal state) falls on
both languages alike. Every mode gets the same image list (the image directory's files, sorted, repeated
to --images), the same batch size and the same TensorFlow intra/inter-op thread counts. Warm-up (the first
model call builds TensorFlow's executors) is excluded from timing. After the first round, each mode's
first embedding is compared with the others: every mode must compute the same thing.

Prints a table and then, as its last line:
  RESULT per_image_ratio=... batched_ratio=... overhead_pct=... rss_ratio=...
and writes the raw reports and the table under --out.
"""

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

IMAGE_EXTENSIONS = {".jpg", ".jpeg", ".png", ".gif", ".bmp"}
# Different modes may legitimately differ by float rounding (a batch of 32 takes other oneDNN kernels
# than a batch of 1); a bigger difference means they are not running the same model on the same input.
EMBEDDING_TOLERANCE = 1e-4


class CompareError(Exception):
    """A run failed, or the runs cannot be compared."""


# --- inputs -----------------------------------------------------------------------------------------

def image_list(images_dir, n):
    """The directory's image files, sorted by name, repeated in order until there are n."""
    if n <= 0:
        raise CompareError(f"--images must be positive, got {n}")
    files = sorted(p for p in Path(images_dir).iterdir()
                   if p.is_file() and p.suffix.lower() in IMAGE_EXTENSIONS)
    if not files:
        raise CompareError(f"{images_dir}: no image files")
    return [str(files[i % len(files)].resolve()) for i in range(n)]


FOLDED = "-folded"


def modes(batch, folded=False):
    """(name, side, mode, batch) of every run of a round, in forward order. Each pair the RESULT line
    compares runs back to back (py-loop/go-loop, go-loop/floor-1, go-batched/py-batched, and with the
    folded model go-loop-folded/py-loop and py-batched/go-batched-folded), so a change in the machine's
    other load between them is as small as it can be. Modes named *-folded run the folded export."""
    head = [("floor-1" + FOLDED, "go", "floor", 1), ("go-loop" + FOLDED, "go", "loop", 1)] if folded else []
    tail = [("go-batched" + FOLDED, "go", "batched", batch)] if folded else []
    return head + [
        ("py-loop", "python", "loop", 1),
        ("go-loop", "go", "loop", 1),
        ("floor-1", "go", "floor", 1),
        (f"floor-{batch}", "go", "floor", batch),
        ("go-batched", "go", "batched", batch),
        ("py-batched", "python", "batched", batch),
    ] + tail


def model_of(name, cfg):
    """The SavedModel a mode runs: the folded export for *-folded modes, the exact one otherwise."""
    return cfg["folded_model"] if name.endswith(FOLDED) else cfg["model"]


def round_order(runs, round_index):
    """Forward on even rounds, reversed on odd ones."""
    return list(runs) if round_index % 2 == 0 else list(reversed(runs))


def command(side, mode, batch, cfg, profile=None, model=None):
    """The argv of one run (on cfg's model unless another is given)."""
    model = model or cfg["model"]
    if side == "go":
        argv = [cfg["go_bin"], "-mode", mode, "-model", model, "-list", cfg["list"],
                "-batch", str(batch), "-intra", str(cfg["intra"]), "-inter", str(cfg["inter"]),
                "-reps", str(cfg["reps"])]
        return argv + (["-cpuprofile", profile] if profile else [])
    return [cfg["python"], cfg["python_script"], "--mode", mode, "--model", model, "--list", cfg["list"],
            "--batch", str(batch), "--intra", str(cfg["intra"]), "--inter", str(cfg["inter"]),
            "--reps", str(cfg["reps"])]


def run_child(argv, env=None):
    """Run one process to its end; return its JSON report plus maxrss_kib, wait4's ru_maxrss of it
    (KiB), and process_s, its wall time from start to exit.

    ru_maxrss survives exec: it counts the pages the child shared with this (small) parent between fork
    and exec, so it is an upper bound; the children's own peak_rss_kib (VmHWM, reset at exec) is the
    number the comparison uses, and must not exceed it."""
    # Temporary files, not pipes: nothing can block on a full pipe, and Popen.wait/communicate would
    # reap the child themselves and lose its rusage, which only wait4 returns.
    with tempfile.TemporaryFile() as fout, tempfile.TemporaryFile() as ferr:
        t0 = time.perf_counter()
        proc = subprocess.Popen(argv, stdout=fout, stderr=ferr, env=env)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
        fout.seek(0)
        ferr.seek(0)
        out, err = fout.read(), ferr.read()
    if proc.returncode != 0:
        tail = err.decode(errors="replace").strip().splitlines()[-15:]
        raise CompareError(f"{' '.join(argv)}: exit {proc.returncode}\n" + "\n".join(tail))
    lines = [ln for ln in out.decode().splitlines() if ln.strip()]
    try:
        rep = json.loads(lines[-1])
    except (IndexError, json.JSONDecodeError) as e:
        raise CompareError(f"{' '.join(argv)}: no JSON report on stdout ({e})") from e
    rep["maxrss_kib"] = usage.ru_maxrss
    rep["process_s"] = wall
    # 1% slack: the kernel syncs per-thread RSS counters lazily, a few pages either way.
    if rep.get("peak_rss_kib", 0) > rep["maxrss_kib"] * 1.01:
        raise CompareError(f"{' '.join(argv)}: reports a peak RSS of {rep['peak_rss_kib']} KiB, "
                           f"above the kernel's {rep['maxrss_kib']} KiB")
    return rep


# --- statistics -------------------------------------------------------------------------------------

def summarize(reports):
    """Per mode: images/s (median, min, max over every timed pass), CPU ms per image, peak RSS."""
    ips = [r["images"] / s for r in reports for s in r["seconds"]]
    cpu = [1000 * c / r["images"] for r in reports for c in r.get("cpu_seconds", [])]
    rss = [r["peak_rss_kib"] / 1024 for r in reports]
    first = reports[0]
    return {
        "side": first["side"], "mode": first["mode"], "batch": first["batch"], "images": first["images"],
        "passes": len(ips),
        "ips_median": statistics.median(ips), "ips_min": min(ips), "ips_max": max(ips),
        "ms_per_image": 1000 / statistics.median(ips),
        "cpu_ms_per_image": statistics.median(cpu) if cpu else float("nan"),
        "rss_mib": max(rss), "rss_mib_min": min(rss),
        "warmup_s": statistics.median(r["warmup_s"] for r in reports),
        "load_s": statistics.median(r["load_s"] for r in reports),
        "preprocess_ms": statistics.median(1000 * r["preprocess_s"] / r["images"] for r in reports),
    }


def result(summary, rounds):
    """The four numbers of the RESULT line.

    Each throughput ratio is the median over rounds of that round's ratio (the two runs of a pair are
    neighbours in time, so drift of the machine's load cancels best within a round): per_image_ratio =
    go-loop / py-loop, batched_ratio = go-batched / py-batched, and overhead_pct = (go-loop seconds per
    image / floor-1 seconds per image - 1) * 100. rss_ratio is the larger of the two Go/Python peak-RSS
    ratios (per-image pair and batched pair), so it never flatters Go.
    """
    s = summary
    per_image = statistics.median(paired_ratios(rounds, "go-loop", "py-loop"))
    batched = statistics.median(paired_ratios(rounds, "go-batched", "py-batched"))
    overhead = (statistics.median(paired_ratios(rounds, "floor-1", "go-loop")) - 1) * 100
    rss = max(s["go-loop"]["rss_mib"] / s["py-loop"]["rss_mib"],
              s["go-batched"]["rss_mib"] / s["py-batched"]["rss_mib"])
    out = {"per_image_ratio": per_image, "batched_ratio": batched, "overhead_pct": overhead, "rss_ratio": rss}
    if "go-loop" + FOLDED in s:
        # The folded export in Go against the notebook's Python loop on the exact export, and what the
        # folding alone gives (Session.Run floor at batch 1, folded over exact).
        out["folded_per_image_ratio"] = statistics.median(paired_ratios(rounds, "go-loop" + FOLDED, "py-loop"))
        out["folded_batched_ratio"] = statistics.median(paired_ratios(rounds, "go-batched" + FOLDED, "py-batched"))
        out["folded_floor_speedup"] = statistics.median(paired_ratios(rounds, "floor-1" + FOLDED, "floor-1"))
    return out


def result_line(r):
    return ("RESULT per_image_ratio={per_image_ratio:.3f} batched_ratio={batched_ratio:.3f} "
            "overhead_pct={overhead_pct:.2f} rss_ratio={rss_ratio:.3f}").format(**r) + "".join(
                f" {k}={r[k]:.3f}" for k in ("folded_per_image_ratio", "folded_batched_ratio",
                                             "folded_floor_speedup") if k in r)


def paired_ratios(rounds, a, b):
    """Per round, median images/s of mode a over that of mode b: the spread of the ratio itself."""
    out = []
    for rnd in rounds:
        ra, rb = rnd[a], rnd[b]
        ia = statistics.median(ra["images"] / s for s in ra["seconds"])
        ib = statistics.median(rb["images"] / s for s in rb["seconds"])
        out.append(ia / ib)
    return out


def check_embeddings(reports):
    """Every mode's first embedding must agree with py-loop's, the notebook's own numbers."""
    ref = reports["py-loop"]["embedding0"]
    worst = {}
    for name, rep in reports.items():
        e = rep["embedding0"]
        if len(e) != len(ref):
            raise CompareError(f"{name}: embedding has {len(e)} values, py-loop's {len(ref)}")
        worst[name] = max(abs(x - y) for x, y in zip(e, ref))
        if worst[name] > EMBEDDING_TOLERANCE:
            raise CompareError(f"{name}: first embedding differs from py-loop's by {worst[name]:.3g} "
                               f"(> {EMBEDDING_TOLERANCE}): the modes are not computing the same thing")
    return worst


# --- output -----------------------------------------------------------------------------------------

def machine():
    """CPU model, logical cores and memory from /proc, plus the load average now."""
    info = {"cpu": platform.processor() or "unknown", "cores": os.cpu_count(), "mem_gib": None}
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                info["cpu"] = line.split(":", 1)[1].strip()
                break
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                info["mem_gib"] = round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    info["loadavg"] = os.getloadavg()
    return info


def table(summary, names):
    """A Markdown table, one row per mode."""
    rows = ["| mode | batch | images/s median | min–max | ms/image | CPU ms/image | peak RSS MiB | "
            "preprocess ms/image | warm-up s |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for n in names:
        s = summary[n]
        rows.append(f"| {n} | {s['batch']} | {s['ips_median']:.2f} | {s['ips_min']:.2f}–{s['ips_max']:.2f} | "
                    f"{s['ms_per_image']:.1f} | {s['cpu_ms_per_image']:.1f} | {s['rss_mib']:.0f} | "
                    f"{s['preprocess_ms']:.3f} | {s['warmup_s']:.2f} |")
    return "\n".join(rows)


def report_text(cfg, info_start, info_end, summary, names, rounds, worst):
    lines = [
        f"machine: {info_start['cpu']}, {info_start['cores']} logical cores, {info_start['mem_gib']} GiB; "
        f"load average {info_start['loadavg'][0]:.2f} at start, {info_end['loadavg'][0]:.2f} at end",
        f"model: {cfg['model']}" + (f"; *-folded modes: {cfg['folded_model']}" if cfg.get("folded_model") else ""),
        f"images: {cfg['images']} ({cfg['distinct']} distinct files from {cfg['images_dir']}, repeated), "
        f"batch {cfg['batch']}, {cfg['rounds']} rounds x {cfg['reps']} timed passes, a fresh process per mode per round",
        f"threads: TensorFlow intra_op={cfg['intra']} inter_op={cfg['inter']} on both sides "
        f"(Python: tf.config.threading; Go: tfmodel.Options)",
        "",
        table(summary, names),
        "",
    ]
    pairs = [("go-loop", "py-loop"), ("go-batched", "py-batched"), ("floor-1", "go-loop")]
    if "go-loop" + FOLDED in summary:
        pairs += [("go-loop" + FOLDED, "py-loop"), ("go-batched" + FOLDED, "py-batched"),
                  ("floor-1" + FOLDED, "floor-1"), ("floor-1" + FOLDED, "go-loop" + FOLDED)]
    for a, b in pairs:
        r = paired_ratios(rounds, a, b)
        lines.append(f"{a} / {b} images/s per round: " + ", ".join(f"{x:.3f}" for x in r) +
                     f" (median {statistics.median(r):.3f}; ratio of the table's medians "
                     f"{summary[a]['ips_median'] / summary[b]['ips_median']:.3f})")
    lines.append("first-embedding max |diff| vs py-loop: " +
                 ", ".join(f"{k} {v:.1e}" for k, v in worst.items()))
    return "\n".join(lines)


# --- driver -----------------------------------------------------------------------------------------

def run_bench(cfg, log=print):
    """All the rounds; returns (summary, per-round reports, embedding diffs)."""
    runs = modes(cfg["batch"], bool(cfg.get("folded_model")))
    names = [r[0] for r in runs]
    rounds, worst = [], {}
    for i in range(cfg["rounds"]):
        got = {}
        for name, side, mode, batch in round_order(runs, i):
            rep = run_child(command(side, mode, batch, cfg, model=model_of(name, cfg)))
            log(f"round {i + 1}/{cfg['rounds']} {name:>11}: {rep['images'] / statistics.median(rep['seconds']):7.2f} "
                f"images/s, peak RSS {rep['peak_rss_kib'] / 1024:.0f} MiB, process {rep['process_s']:.1f} s")
            got[name] = rep
        if i == 0:
            worst = check_embeddings(got)  # fail fast, before the remaining rounds
        rounds.append(got)
    summary = {n: summarize([r[n] for r in rounds]) for n in names}
    return summary, rounds, worst, names


def profile_go(cfg, out_dir, log=print):
    """One extra, unmeasured run of each Go mode with a CPU profile, for `go tool pprof`."""
    paths = []
    for name, side, mode, batch in modes(cfg["batch"], bool(cfg.get("folded_model"))):
        if side != "go":
            continue
        path = str(Path(out_dir) / f"{name}.pprof")
        run_child(command(side, mode, batch, cfg, profile=path, model=model_of(name, cfg)))
        log(f"profile {name}: {path}")
        paths.append(path)
    return paths


def main(argv=None):
    env_int = lambda k, d: int(os.environ.get(k) or d)  # noqa: E731
    parser = argparse.ArgumentParser(
        description="Benchmark the Go FaceNet pipeline against the Python notebook pipeline on the same "
                    "SavedModel and images, interleaved, and print a table and a RESULT line.")
    parser.add_argument("--model", required=True, help="SavedModel directory with its facenet profile")
    parser.add_argument("--images-dir", required=True, help="directory of images (the notebook's images/)")
    parser.add_argument("--images", type=int, default=env_int("BENCH_IMAGES", 288),
                        help="images per timed pass, the directory's files repeated (default $BENCH_IMAGES or 288)")
    parser.add_argument("--rounds", type=int, default=env_int("BENCH_ROUNDS", 3),
                        help="rounds of all the modes (default $BENCH_ROUNDS or 3)")
    parser.add_argument("--reps", type=int, default=env_int("BENCH_REPS", 2),
                        help="timed passes per process after the warm-up (default $BENCH_REPS or 2)")
    parser.add_argument("--batch", type=int, default=32, help="batch size of the batched modes (default 32)")
    parser.add_argument("--intra", type=int, default=2, help="TensorFlow intra-op threads, both sides (default 2)")
    parser.add_argument("--inter", type=int, default=1, help="TensorFlow inter-op threads, both sides (default 1)")
    parser.add_argument("--folded-model",
                        help="also time the Go modes on this SavedModel (facenet-keras-folded), as *-folded "
                             "rows, against the Python loop on --model")
    parser.add_argument("--go-bin", default="bin/facenet-bench", help="the Go driver (cmd/facenet-bench)")
    parser.add_argument("--python", default=sys.executable, help="Python with TensorFlow (default: this one)")
    parser.add_argument("--out", default="build/bench", help="directory for images.txt, results.json, table.md")
    parser.add_argument("--profile", action="store_true",
                        help="afterwards, one unmeasured profiled run of each Go mode: <out>/<mode>.pprof")
    args = parser.parse_args(argv)
    if args.rounds <= 0 or args.reps <= 0 or args.batch <= 0:
        parser.error("--rounds, --reps and --batch must be positive")

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    try:
        paths = image_list(args.images_dir, args.images)
        list_file = out / "images.txt"
        list_file.write_text("\n".join(paths) + "\n", encoding="utf-8")
        cfg = {"model": str(Path(args.model).resolve()), "list": str(list_file.resolve()),
               "folded_model": str(Path(args.folded_model).resolve()) if args.folded_model else None,
               "images": args.images, "distinct": len(set(paths)), "images_dir": args.images_dir,
               "batch": args.batch, "rounds": args.rounds, "reps": args.reps,
               "intra": args.intra, "inter": args.inter, "go_bin": str(Path(args.go_bin).resolve()),
               "python": args.python, "python_script": str(Path(__file__).with_name("bench_python.py"))}
        info_start = machine()
        log = lambda msg: print(msg, file=sys.stderr, flush=True)  # noqa: E731
        summary, rounds, worst, names = run_bench(cfg, log)
        info_end = machine()
        profiles = profile_go(cfg, out, log) if args.profile else []
    except CompareError as err:
        print(f"bench_compare: {err}", file=sys.stderr)
        return 1
    res = result(summary, rounds)
    text = report_text(cfg, info_start, info_end, summary, names, rounds, worst)
    (out / "table.md").write_text(text + "\n\n" + result_line(res) + "\n", encoding="utf-8")
    (out / "results.json").write_text(json.dumps(
        {"config": cfg, "machine_start": info_start, "machine_end": info_end, "summary": summary,
         "result": res, "embedding_max_diff": worst, "profiles": profiles,
         "rounds": [{k: {f: v for f, v in rep.items() if f != "embedding0"} for k, rep in rnd.items()}
                    for rnd in rounds]}, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    print(text)
    print(result_line(res))
    return 0


if __name__ == "__main__":
    sys.exit(main())
