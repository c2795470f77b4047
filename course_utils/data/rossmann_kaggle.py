"""Kaggle's real Rossmann `train.csv`: where to look for it, and how to get it.

The competition's rules forbid redistribution, so the course cannot ship `train.csv`:
`find_train_csv` looks for a copy in the data folders, `fetch_kaggle` downloads it with the
`kaggle` CLI when the optional package and an API token are there, and
`kaggle_instructions` says step by step what to do when they are not.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import zipfile
import zlib
from pathlib import Path

from course_utils.data.errors import DataError
from course_utils.data.fetch import candidate_folders, data_dir
from course_utils.data.rossmann_schema import KAGGLE_COMPETITION, KAGGLE_URL
from course_utils.files import atomic_write

__all__ = ["fetch_kaggle", "find_train_csv", "kaggle_instructions"]


def find_train_csv(path: str | os.PathLike | None = None) -> Path | None:
    """The first `rossmann/train.csv` in the data folders (explicit path, COURSE_DATA, data/)."""
    for folder in candidate_folders("rossmann", path):
        if (folder / "train.csv").is_file():
            return folder / "train.csv"
    return None


def kaggle_instructions(dest: Path | None = None) -> str:
    """How to get Kaggle's train.csv, step by step."""
    dest = dest or data_dir() / "rossmann"
    return (
        "To use Kaggle's real train.csv:\n"
        f"  1. Sign in at kaggle.com and accept the rules at {KAGGLE_URL}\n"
        "  2. Either download train.csv from that page by hand, or use the Kaggle CLI:\n"
        "       pip install kaggle      (or: pip install -e '.[kaggle]')\n"
        "       create an API token (kaggle.com > Settings > API) and save it as\n"
        "       ~/.kaggle/kaggle.json (or set KAGGLE_USERNAME and KAGGLE_KEY)\n"
        "       python -c 'from course_utils.data.rossmann import fetch_kaggle; fetch_kaggle()'\n"
        f"       (it runs: kaggle competitions download -c {KAGGLE_COMPETITION}, then unzips)\n"
        f"  3. Put train.csv in {dest}/ (or in $COURSE_DATA/rossmann/) and re-run."
    )


def _kaggle_credentials() -> bool:
    if os.environ.get("KAGGLE_USERNAME") and os.environ.get("KAGGLE_KEY"):
        return True
    if os.environ.get("KAGGLE_API_TOKEN"):
        return True
    config = Path(os.environ.get("KAGGLE_CONFIG_DIR", Path.home() / ".kaggle"))
    return (config / "kaggle.json").is_file() or (config / "access_token").is_file()


def fetch_kaggle(dest: str | os.PathLike | None = None, timeout: float = 1800) -> Path:
    """Download and unzip Kaggle's Rossmann files with the `kaggle` CLI; return `train.csv`.

    Needs the optional `kaggle` package (`pip install kaggle`) and an API token, and your
    account must have accepted the competition rules. Whatever is missing, the `DataError`
    says what to do; the CLI's own message is included when the download itself fails.
    """
    dest = Path(dest) if dest is not None else data_dir() / "rossmann"
    exe = shutil.which("kaggle")
    if exe is None:
        raise DataError("The `kaggle` command is not installed.\n" + kaggle_instructions(dest))
    if not _kaggle_credentials():
        raise DataError(
            "No Kaggle API token found (~/.kaggle/kaggle.json or KAGGLE_USERNAME/"
            "KAGGLE_KEY).\n" + kaggle_instructions(dest)
        )
    dest.mkdir(parents=True, exist_ok=True)
    cmd = [exe, "competitions", "download", "-c", KAGGLE_COMPETITION, "-p", str(dest)]
    try:
        res = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except (OSError, subprocess.TimeoutExpired) as e:
        raise DataError(
            f"Running {' '.join(cmd)} failed: {e}\n" + kaggle_instructions(dest)
        ) from None
    if res.returncode != 0:
        msg = (res.stderr or res.stdout).strip()[-800:]
        hint = (
            " (403 Forbidden usually means the competition rules were not accepted yet)"
            if "403" in msg
            else ""
        )
        raise DataError(
            f"`{' '.join(cmd)}` failed with exit code {res.returncode}{hint}:\n"
            f"{msg}\n" + kaggle_instructions(dest)
        )
    for archive in sorted(dest.glob("*.zip")):  # replace every file: an old one may be truncated
        try:
            with zipfile.ZipFile(archive) as z:
                for member in (m for m in z.namelist() if Path(m).name == m):
                    with (
                        z.open(member) as src,
                        atomic_write(dest / member) as tmp,
                        open(tmp, "wb") as out,
                    ):
                        shutil.copyfileobj(src, out)
        except (zipfile.BadZipFile, EOFError, zlib.error) as e:
            archive.unlink()
            raise DataError(
                f"{archive} from Kaggle is damaged ({e}); it was deleted, the files "
                "already there were kept. Run fetch_kaggle() again."
            ) from None
    train = dest / "train.csv"
    if not train.is_file():
        raise DataError(
            f"The Kaggle download finished but {train} is not there; found "
            f"{sorted(p.name for p in dest.iterdir())}.\n" + kaggle_instructions(dest)
        )
    return train
