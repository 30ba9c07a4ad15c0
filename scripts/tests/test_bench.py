"""Tests of make bench's Python side: the orchestrator's bookkeeping with stand-in children, the real
peak-RSS measurement, and bench_python.py on the notebook model against the notebook's own numbers."""

import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import bench_compare as bc
import bench_python as bp

ROOT = Path(__file__).resolve().parents[2]
IMAGES = ROOT / "testdata" / "images"
MODEL = Path(os.environ.get("FACENET_MODELS", ROOT / "build" / "models")) / "facenet-keras"
GOLDEN = ROOT / "testdata" / "facenet" / "golden_notebook.json"


# --- inputs ---------------------------------------------------------------------------------------

def test_image_list_cycles_sorted_images_only(tmp_path):
    for name in ["b.jpg", "a.PNG", "c.gif", "notes.md", "README"]:
        (tmp_path / name).write_bytes(b"x")
    (tmp_path / "sub.jpg").mkdir()
    got = [Path(p).name for p in bc.image_list(tmp_path, 7)]
    assert got == ["a.PNG", "b.jpg", "c.gif", "a.PNG", "b.jpg", "c.gif", "a.PNG"]
    assert all(Path(p).is_absolute() for p in bc.image_list(tmp_path, 2))


@pytest.mark.parametrize("n, files, message", [
    (0, ["a.jpg"], "must be positive"),
    (5, ["notes.txt"], "no image files"),
])
def test_image_list_errors(tmp_path, n, files, message):
    for name in files:
        (tmp_path / name).write_bytes(b"x")
    with pytest.raises(bc.CompareError, match=message):
        bc.image_list(tmp_path, n)


def test_round_order_alternates():
    runs = bc.modes(16)
    assert [r[0] for r in runs] == ["py-loop", "go-loop", "floor-1", "floor-16", "go-batched", "py-batched"]
    assert bc.round_order(runs, 0) == runs
    assert bc.round_order(runs, 1) == runs[::-1]
    assert bc.round_order(runs, 2) == runs


def test_commands_carry_the_same_settings():
    cfg = {"go_bin": "/b/facenet-bench", "python": "/v/python", "python_script": "/s/bench_python.py",
           "model": "/m", "list": "/l.txt", "intra": 2, "inter": 1, "reps": 3}
    go = bc.command("go", "floor", 32, cfg, profile="/o/p.pprof")
    py = bc.command("python", "batched", 32, cfg)
    assert go == ["/b/facenet-bench", "-mode", "floor", "-model", "/m", "-list", "/l.txt", "-batch", "32",
                  "-intra", "2", "-inter", "1", "-reps", "3", "-cpuprofile", "/o/p.pprof"]
    assert py == ["/v/python", "/s/bench_python.py", "--mode", "batched", "--model", "/m", "--list", "/l.txt",
                  "--batch", "32", "--intra", "2", "--inter", "1", "--reps", "3"]


@pytest.mark.parametrize("n, batch, want", [(288, 32, 32), (36, 8, 12), (5, 32, 5), (33, 32, 33), (300, 1, 1)])
def test_warmup_images_matches_go(n, batch, want):
    # cmd/facenet-bench's TestWarmupImages has the same table: both sides warm up the same shapes.
    assert bp.warmup_images(n, batch) == want


def test_peak_rss_kib():
    import resource
    kib = bp.peak_rss_kib()
    # The kernel syncs per-thread RSS counters lazily, so the two may differ by a few pages.
    assert 10 * 1024 < kib <= resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1.01


def test_read_list(tmp_path):
    f = tmp_path / "l.txt"
    f.write_text("\n a.jpg \n\nb.png\n")
    assert bp.read_list(f) == ["a.jpg", "b.png"]
    f.write_text("\n\n")
    with pytest.raises(bp.BenchError, match="no image paths"):
        bp.read_list(f)


# --- statistics -----------------------------------------------------------------------------------

def rep(side, mode, batch, ips, rss_mib, images=100, emb=(0.6, 0.8)):
    """A child report with the given throughputs (one per timed pass)."""
    return {"side": side, "mode": mode, "batch": batch, "images": images,
            "seconds": [images / x for x in ips], "cpu_seconds": [images / x / 2 for x in ips],
            "warmup_s": 1.0, "load_s": 2.0, "preprocess_s": 0.01 * images / 100,
            "peak_rss_kib": rss_mib * 1024, "maxrss_kib": rss_mib * 1024 + 1, "embedding0": list(emb)}


def fake_round(scale=1.0):
    return {
        "py-loop": rep("python", "loop", 1, [20 * scale, 22 * scale], 1000),
        "go-loop": rep("go", "loop", 1, [30 * scale, 31 * scale], 700),
        "py-batched": rep("python", "batched", 32, [25 * scale], 1100),
        "go-batched": rep("go", "batched", 32, [50 * scale], 600),
        "floor-1": rep("go", "floor", 1, [31.5 * scale], 650),
        "floor-32": rep("go", "floor", 32, [55 * scale], 800),
    }


def test_summary_and_result():
    rounds = [fake_round(1.0), fake_round(1.2), fake_round(0.9)]
    summary = {n: bc.summarize([r[n] for r in rounds]) for n in rounds[0]}
    s = summary["py-loop"]
    assert s["passes"] == 6
    assert s["ips_median"] == pytest.approx(21)  # passes 18, 19.8, 20, 22, 24, 26.4
    assert (s["ips_min"], s["ips_max"]) == (pytest.approx(18), pytest.approx(26.4))
    assert s["ms_per_image"] == pytest.approx(1000 / s["ips_median"])
    assert s["rss_mib"] == 1000

    r = bc.result(summary, rounds)
    # Every round has the same speeds up to a common factor, so each round's ratio is the same.
    assert r["per_image_ratio"] == pytest.approx(30.5 / 21)
    assert r["batched_ratio"] == pytest.approx(50 / 25)
    assert r["overhead_pct"] == pytest.approx((31.5 / 30.5 - 1) * 100)
    # The larger of 700/1000 and 600/1100: the pair less favourable to Go.
    assert r["rss_ratio"] == pytest.approx(0.7)
    line = bc.result_line(r)
    assert re.fullmatch(r"RESULT per_image_ratio=\d+\.\d{3} batched_ratio=\d+\.\d{3} "
                        r"overhead_pct=-?\d+\.\d{2} rss_ratio=\d+\.\d{3}", line), line
    assert bc.paired_ratios(rounds, "go-batched", "py-batched") == pytest.approx([2.0, 2.0, 2.0])


def test_folded_modes_run_the_folded_model_and_get_their_ratios():
    runs = bc.modes(16, folded=True)
    assert [r[0] for r in runs] == ["floor-1-folded", "go-loop-folded", "py-loop", "go-loop", "floor-1",
                                    "floor-16", "go-batched", "py-batched", "go-batched-folded"]
    cfg = {"go_bin": "/b/facenet-bench", "model": "/exact", "folded_model": "/folded", "list": "/l.txt",
           "intra": 2, "inter": 1, "reps": 1}
    for name, side, mode, batch in runs:
        argv = bc.command(side, mode, batch, cfg, model=bc.model_of(name, cfg)) if side == "go" else None
        if argv:
            assert argv[argv.index("-model") + 1] == ("/folded" if name.endswith("-folded") else "/exact")
    rounds = []
    for scale in (1.0, 1.1, 0.95):
        rnd = fake_round(scale)
        rnd["go-loop-folded"] = rep("go", "loop", 1, [33 * scale], 650)
        rnd["floor-1-folded"] = rep("go", "floor", 1, [34 * scale], 640)
        rnd["go-batched-folded"] = rep("go", "batched", 32, [55 * scale], 600)
        rounds.append(rnd)
    summary = {n: bc.summarize([r[n] for r in rounds]) for n in rounds[0]}
    r = bc.result(summary, rounds)
    assert r["folded_per_image_ratio"] == pytest.approx(33 / 21)
    assert r["folded_batched_ratio"] == pytest.approx(55 / 25)
    assert r["folded_floor_speedup"] == pytest.approx(34 / 31.5)
    assert bc.result_line(r).endswith("folded_per_image_ratio=1.571 folded_batched_ratio=2.200 "
                                      "folded_floor_speedup=1.079")


def test_check_embeddings():
    good = fake_round()
    good["go-loop"]["embedding0"] = [0.6 + 5e-5, 0.8]
    worst = bc.check_embeddings(good)
    assert worst["go-loop"] == pytest.approx(5e-5)
    bad = fake_round()
    bad["floor-32"]["embedding0"] = [0.8, 0.6]
    with pytest.raises(bc.CompareError, match="floor-32.*not computing the same thing"):
        bc.check_embeddings(bad)
    short = fake_round()
    short["go-batched"]["embedding0"] = [0.6]
    with pytest.raises(bc.CompareError, match="1 values"):
        bc.check_embeddings(short)


def test_table_has_a_row_per_mode():
    summary = {n: bc.summarize([r]) for n, r in fake_round().items()}
    lines = bc.table(summary, list(summary)).splitlines()
    assert len(lines) == 2 + 6
    assert lines[2].startswith("| py-loop | 1 | 21.00 | 20.00–22.00 |")


# --- children -------------------------------------------------------------------------------------

PEAK_CHILD = textwrap.dedent("""
    import json
    b = bytearray(200 << 20)
    hwm = [int(ln.split()[1]) for ln in open("/proc/self/status") if ln.startswith("VmHWM:")][0]
    print("noise")
    print(json.dumps({"seconds": [1], "peak_rss_kib": hwm}))
""")


def test_run_child_peak_rss():
    # The child touches 200 MiB: its own VmHWM sees it, and wait4's ru_maxrss bounds it.
    r = bc.run_child([sys.executable, "-c", PEAK_CHILD])
    assert r["seconds"] == [1]
    assert 200 * 1024 < r["peak_rss_kib"] <= r["maxrss_kib"]
    assert r["process_s"] > 0


def test_run_child_rejects_a_peak_above_the_kernels():
    with pytest.raises(bc.CompareError, match="above the kernel's"):
        bc.run_child([sys.executable, "-c", "print('{\"peak_rss_kib\": 1e12}')"])


@pytest.mark.parametrize("code, message", [
    ("import sys; print('boom', file=sys.stderr); sys.exit(3)", "exit 3\nboom"),
    ("print('not json')", "no JSON report"),
    ("pass", "no JSON report"),
])
def test_run_child_failures(code, message):
    with pytest.raises(bc.CompareError, match=message):
        bc.run_child([sys.executable, "-c", code])


FAKE_CHILD = textwrap.dedent("""
    import json, sys
    args = sys.argv[1:]
    def arg(name):
        for flag in ("-" + name, "--" + name):
            if flag in args:
                return args[args.index(flag) + 1]
    side = "go" if "-mode" in args else "python"
    mode, batch = arg("mode"), int(arg("batch"))
    with open(arg("list")) as f:
        n = len(f.read().split())
    with open(LOG, "a") as f:
        f.write(f"{side}-{mode}-{batch}\\n")
    speed = {("python", "loop"): 20, ("go", "loop"): 30, ("python", "batched"): 25,
             ("go", "batched"): 50, ("go", "floor"): 31 if batch == 1 else 55}[(side, mode)]
    reps = int(arg("reps"))
    print(json.dumps({"side": side, "mode": mode, "batch": 1 if mode == "loop" else batch, "images": n,
                      "seconds": [n / speed] * reps, "cpu_seconds": [n / speed] * reps, "warmup_s": 0.1,
                      "load_s": 0.1, "preprocess_s": 0.001, "peak_rss_kib": 1000, "embedding0": [0.6, 0.8]}))
""")


def test_run_bench_interleaves_and_compares(tmp_path):
    log = tmp_path / "calls.log"
    child = tmp_path / "child.py"
    child.write_text(f"LOG = {str(log)!r}\n" + FAKE_CHILD)
    go_bin = tmp_path / "facenet-bench"
    go_bin.write_text(f"#!{sys.executable}\n" + child.read_text())
    go_bin.chmod(0o755)
    list_file = tmp_path / "images.txt"
    list_file.write_text("\n".join(bc.image_list(IMAGES, 40)) + "\n")
    cfg = {"model": "/m", "list": str(list_file), "images": 40, "batch": 8, "rounds": 2, "reps": 2,
           "intra": 2, "inter": 1, "go_bin": str(go_bin), "python": sys.executable, "python_script": str(child)}
    summary, rounds, worst, names = bc.run_bench(cfg, log=lambda msg: None)

    calls = log.read_text().split()
    forward = ["python-loop-1", "go-loop-1", "go-floor-1", "go-floor-8", "go-batched-8", "python-batched-8"]
    assert calls == forward + forward[::-1]
    assert names == ["py-loop", "go-loop", "floor-1", "floor-8", "go-batched", "py-batched"]
    assert len(rounds) == 2 and all(len(r) == 6 for r in rounds)
    assert summary["go-loop"]["passes"] == 4
    assert all(v == 0 for v in worst.values())
    r = bc.result(summary, rounds)
    assert r["per_image_ratio"] == pytest.approx(30 / 20)
    assert r["batched_ratio"] == pytest.approx(50 / 25)
    assert r["overhead_pct"] == pytest.approx((31 / 30 - 1) * 100)


# --- the real Python side -------------------------------------------------------------------------

# 1e-5: the golden file may come from another CPU, whose oneDNN kernels round differently.
@pytest.mark.parametrize("mode, batch, tol", [("loop", 1, 1e-5), ("batched", 2, 1e-4)])
def test_bench_python_is_the_notebook(tmp_path, mode, batch, tol):
    """bench_python.py on the notebook model: its first embedding is the notebook's for that image (the
    golden file scripts/golden_embeddings.py wrote), with 3 images so the batched warm-up covers a
    ragged last batch."""
    assert (MODEL / "saved_model.pb").is_file(), f"{MODEL} is missing: run `make models`"
    golden = json.loads(GOLDEN.read_text())
    names = ["andrew.jpg", "kian.jpg", "danielle.png"]
    list_file = tmp_path / "images.txt"
    list_file.write_text("\n".join(str(IMAGES / n) for n in names) + "\n")
    out = subprocess.run([sys.executable, str(ROOT / "scripts" / "bench_python.py"), "--mode", mode,
                          "--model", str(MODEL), "--list", str(list_file), "--batch", str(batch), "--reps", "2"],
                         capture_output=True, text=True, check=False, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    r = json.loads(out.stdout.strip().splitlines()[-1])
    assert (r["side"], r["mode"], r["images"], r["batch"], r["intra"], r["inter"]) == \
        ("python", mode, 3, batch, 2, 1)
    assert len(r["seconds"]) == 2 and all(s > 0 for s in r["seconds"])
    assert len(r["cpu_seconds"]) == 2
    assert r["peak_rss_kib"] > 200 * 1024
    want = golden["images"]["andrew.jpg"]["embedding"]
    assert r["embedding0"] == pytest.approx(want, abs=tol)


def test_bench_python_rejects_bad_arguments(tmp_path):
    list_file = tmp_path / "images.txt"
    list_file.write_text(str(IMAGES / "andrew.jpg") + "\n")
    out = subprocess.run([sys.executable, str(ROOT / "scripts" / "bench_python.py"), "--mode", "fast",
                          "--model", str(MODEL), "--list", str(list_file)], capture_output=True, text=True)
    assert out.returncode == 2 and "invalid choice: 'fast'" in out.stderr
