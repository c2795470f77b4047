"""Finding, downloading and verifying the course data sets (the registry is in `registry`).

`find_dataset(name)` looks for a copy in this order and returns the first folder that holds
one:

1. an explicit `path` argument,
2. `$COURSE_DATA/<name>` (a mirror laid out like the official archives unpack),
3. the repository's `data/<name>` (where downloads land),
4. a download from the official URL into `data/` (with a progress bar), verified, unpacked.

Every file is checked against its sha256 before it is read, so a truncated download, a
different release or an edited file is reported, never silently loaded. Each copy is hashed
once per session, and again whenever one of its files is replaced.

Command line (`main`): `python -m course_utils.data` lists where each data set was found;
`python -m course_utils.data fetch NAME` downloads one.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sys
import tarfile
import zipfile
from pathlib import Path

import pooch

from course_utils.checks import env_flag
from course_utils.data.errors import DataError
from course_utils.data.registry import DATASETS, Dataset

__all__ = [
    "REPO_DATA",
    "candidate_folders",
    "data_dir",
    "find_dataset",
    "forget_verified",
    "main",
    "search_dirs",
    "sha256",
    "verify",
]

REPO_DATA = Path(__file__).resolve().parents[2] / "data"


# --------------------------------------------------------------------------- locations


def data_dir() -> Path:
    """Where downloads land: the repository's `data/` (or a user cache for a plain install)."""
    if REPO_DATA.is_dir():
        return REPO_DATA
    return Path(pooch.os_cache("course_utils"))


def search_dirs(path: str | os.PathLike | None = None) -> list[Path]:
    """The folders searched for data sets, in order (see the module docstring)."""
    dirs = []
    if path is not None:
        dirs.append(Path(path))
    env = os.environ.get("COURSE_DATA", "").strip()
    if env:
        folder = Path(env).expanduser()
        if folder.exists() and not folder.is_dir():
            raise DataError(
                f"COURSE_DATA={env!r} is a file, not a folder: point it at the folder that "
                "holds the data sets (e.g. export COURSE_DATA=/path/to/mirror), or unset it."
            )
        dirs.append(folder)  # a missing folder: the not-found error says so
    dirs.append(data_dir())
    return dirs


def sha256(path: Path, chunk: int = 1 << 20) -> str:
    """The sha256 hex digest of a file, read in chunks."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


def candidate_folders(name: str, path: str | os.PathLike | None = None) -> list[Path]:
    """Where a copy of `name` may be, in search order.

    An explicit `path` may be the data-set folder itself or a mirror holding `<name>/`.
    """
    folders = []
    for i, base in enumerate(search_dirs(path)):
        if i == 0 and path is not None and not (base / name).is_dir():
            folders.append(base)
        else:
            folders.append(base / name)
    return folders


def _has_files(folder: Path, spec: Dataset) -> bool:
    return folder.is_dir() and any((folder / f).exists() for f in spec.files)


def verify(folder: Path, spec: Dataset) -> Path:
    """Check that `folder` holds every file of `spec` with the right sha256; return it."""
    missing = [f for f in spec.files if not (folder / f).is_file()]
    if missing:
        raise DataError(
            f"The copy of {spec.name!r} in {folder} is incomplete: missing {', '.join(missing)}. "
            f"Delete the folder and download again from {spec.urls[0]}, or point COURSE_DATA "
            "at a complete mirror."
        )
    to_check = dict(spec.files) | {f: h for f, h in spec.optional.items() if (folder / f).is_file()}
    for rel, expected in to_check.items():
        actual = sha256(folder / rel)
        if actual != expected:
            raise DataError(
                f"{folder / rel} is corrupt or a different release of {spec.name!r}: sha256 "
                f"{actual}, expected {expected}. Fix: delete {folder / rel} (or the whole folder) "
                f"and download again from {spec.urls[0]}; if the publisher has released a new "
                "version, use the pinned release this course was written for."
            )
    return folder


_verified: dict[Path, tuple] = {}  # folder -> `_stamp` when it last passed `verify`


def forget_verified() -> None:
    """Forget which copies passed `verify`, so the next `find_dataset` hashes them again."""
    _verified.clear()


def _stamp(folder: Path, spec: Dataset) -> tuple:
    """What changes whenever a file of the copy is replaced or rewritten (inode, size, times)."""
    stats = [
        (folder / f).stat() if (folder / f).exists() else None
        for f in (*spec.files, *spec.optional)
    ]
    return tuple(s and (s.st_ino, s.st_size, s.st_mtime_ns, s.st_ctime_ns) for s in stats)


def find_dataset(name: str, path: str | os.PathLike | None = None, download: bool = True) -> Path:
    """The folder holding a verified copy of data set `name` (see the module docstring).

    Raises `DataError` naming the data set, its URL, the folders searched and how to use
    `COURSE_DATA` when there is no copy anywhere and the download fails.
    """
    if name not in DATASETS:
        raise DataError(f"Unknown data set {name!r}; known: {', '.join(DATASETS)}.")
    spec = DATASETS[name]
    tried = candidate_folders(name, path)
    for folder in tried:
        if _has_files(folder, spec):
            stamp = _stamp(folder, spec)
            if _verified.get(folder) != stamp:  # hash each copy once per session
                verify(folder, spec)
                _verified[folder] = stamp
            return folder
    if download and spec.download_url:
        try:
            return _download(spec)
        except DataError:
            raise
        except Exception as e:  # network errors, HTTP errors, bad archives
            reason = f"{type(e).__name__}: {e}"
    else:
        reason = "automatic download is off" if spec.download_url else "no automatic download"
    searched = "\n".join(f"  - {p}" for p in tried)
    env = os.environ.get("COURSE_DATA", "").strip()
    if env and not Path(env).expanduser().is_dir():
        searched += f"\n  (COURSE_DATA={env!r} is a folder that does not exist)"
    raise DataError(
        f"Data set {name!r} was not found and could not be downloaded ({reason}).\n"
        f"Official source: {spec.urls[0]}\n"
        f"Folders searched:\n{searched}\n"
        + (f"{spec.manual}\n" if spec.manual else "")
        + "Fix: download it yourself and unpack it into data/, or set the environment variable "
        f"COURSE_DATA to a folder that holds {name}/ (e.g. export COURSE_DATA=/path/to/mirror)."
    )


def _download(spec: Dataset) -> Path:
    """Download `spec` into `data_dir()`, unpack, verify. Never leaves a half-written copy."""
    dest = data_dir()
    dest.mkdir(parents=True, exist_ok=True)
    url = spec.download_url
    fname = url.rsplit("/", 1)[-1]
    if spec.archive is None:
        # Single file: pooch writes to a temporary file and renames it only when complete
        # and matching the hash.
        (dest / spec.name).mkdir(exist_ok=True)
        rel, expected = next(iter(spec.files.items()))
        try:
            pooch.retrieve(
                url,
                known_hash=f"sha256:{expected}",
                fname=rel,
                path=dest / spec.name,
                progressbar=env_flag("COURSE_PROGRESS", True),
            )
        except ValueError as e:  # pooch's hash mismatch
            raise DataError(
                f"The download of {url} does not match the pinned sha256 of {spec.name}/{rel} "
                f"({e}). The file was not kept. Try again later, or use a mirror via COURSE_DATA."
            ) from None
        return verify(dest / spec.name, spec)
    # Archives: download (verified against the published archive hash where there is one),
    # unpack into a temporary folder, verify every file, then move into place atomically.
    tmp = dest / f".{spec.name}.partial"
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        archive = pooch.retrieve(
            url,
            known_hash=spec.archive_hash,
            fname=fname,
            path=dest,
            progressbar=env_flag("COURSE_PROGRESS", True),
        )
    except ValueError as e:
        raise DataError(
            f"The download of {url} does not match its published hash ({e}). The archive was "
            "not kept. Try again later, or use a mirror via COURSE_DATA."
        ) from None
    try:
        if spec.archive == "zip":
            shutil.unpack_archive(archive, tmp, "zip")
        else:
            shutil.unpack_archive(archive, tmp, "gztar")
        inner = tmp / spec.name if (tmp / spec.name).is_dir() else tmp
        verify(inner, spec)
        final = dest / spec.name
        shutil.rmtree(final, ignore_errors=True)
        inner.rename(final)
    except (shutil.ReadError, EOFError, zipfile.BadZipFile, tarfile.TarError) as e:
        Path(archive).unlink(missing_ok=True)
        raise DataError(
            f"The archive {archive} from {url} is damaged ({e}); it was deleted. "
            "Run again to download it anew."
        ) from None
    except OSError as e:  # the archive is fine, the disk is not (full, read-only): keep it
        raise DataError(
            f"Could not unpack {archive} into {dest} ({e}): is the disk full? The archive "
            "was kept; free some space (or set COURSE_DATA to a roomier folder) and run again."
        ) from None
    except DataError:
        Path(archive).unlink(missing_ok=True)
        raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    Path(archive).unlink(missing_ok=True)
    return final


# --------------------------------------------------------------------------- command line


def main(argv: list[str] | None = None) -> int:
    """`python -m course_utils.data [list | fetch NAME ...]`: where each data set is, or fetch some."""
    import argparse

    parser = argparse.ArgumentParser(
        prog="python -m course_utils.data",
        description="Where each course data set is, or download some.",
    )
    sub = parser.add_subparsers(dest="command")
    sub.add_parser("list", help="where each data set was found (the default)")
    sub.add_parser("fetch", help="find or download data sets").add_argument(
        "names", nargs="+", choices=list(DATASETS), metavar="NAME", help=", ".join(DATASETS)
    )
    args = parser.parse_args(argv)
    download = args.command == "fetch"
    names = args.names if download else list(DATASETS)
    try:  # a COURSE_DATA that is a file is an error for the whole command, not a traceback
        print("Searched, in order:", ", ".join(str(p) for p in search_dirs()))
    except DataError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    status = 0
    for name in names:
        try:
            print(f"{name:16} {find_dataset(name, download=download)}")
        except DataError as e:
            status = 1
            print(f"{name:16} NOT FOUND - {str(e).splitlines()[0]}")
    return status
