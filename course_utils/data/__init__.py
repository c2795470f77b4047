"""Finding, downloading, verifying and loading the course data sets.

Every data set the course uses is registered in `DATASETS` with its official source, the
files it must contain and the sha256 of each file. `find_dataset(name)` looks for a copy in
this order and returns the first folder that holds one:

1. an explicit `path` argument,
2. `$COURSE_DATA/<name>` (a mirror laid out like the official archives unpack),
3. the repository's `data/<name>` (where downloads land),
4. a download from the official URL into `data/` (with a progress bar), verified, unpacked.

Every file is checked against its sha256 before it is read, so a truncated download, a
different release or an edited file is reported, never silently loaded. The loaders
(`load_movielens`, `load_ml100k`, `load_nietzsche`, ...) return tidy pandas objects.

Command line: `python -m course_utils.data` lists where each data set was found;
`python -m course_utils.data fetch NAME` downloads one.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tarfile
import zipfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pooch

from course_utils.checks import env_flag
from course_utils.files import atomic_write, model_path

__all__ = [
    "DATASETS",
    "DataError",
    "Dataset",
    "atomic_write",
    "check_columns",
    "data_dir",
    "model_path",
    "workbook_path",
    "read_named",
    "find_dataset",
    "load_ml100k",
    "load_ml100k_split",
    "load_movielens",
    "load_nietzsche",
    "movie_titles",
    "candidate_folders",
    "search_dirs",
    "sha256",
]

REPO_DATA = Path(__file__).resolve().parents[2] / "data"


class DataError(RuntimeError):
    """A data set is missing, incomplete, corrupt or not shaped as expected."""


@dataclass(frozen=True)
class Dataset:
    """One course data set.

    Attributes:
        name: folder name, as the official archive unpacks (e.g. `ml-100k`).
        urls: official sources, named in errors.
        download_url: what an automatic download fetches (`None`: manual only).
        files: relative path -> sha256 of every file a copy must contain.
        optional: relative path -> sha256 of files that are verified when present.
        archive: `zip`, `tgz` or `None` (a single file downloaded as is).
        archive_hash: pooch-style hash of the archive (`md5:...`), if published.
        licence: one line on what the licence allows.
        manual: instructions when no automatic download is possible.
    """

    name: str
    urls: tuple[str, ...]
    files: Mapping[str, str]
    optional: Mapping[str, str] = field(default_factory=dict)
    download_url: str | None = None
    archive: str | None = "zip"
    archive_hash: str | None = None
    licence: str = ""
    manual: str = ""


_ML100K_HASHES = {
    "u.data": "06416e597f82b7342361e41163890c81036900f418ad91315590814211dca490",
    "u.item": "553841ebc7de3a0fd0d6b62a204ea30c1e651aacfb2814c7a6584ac52f2c5701",
    "u.user": "f120e114da2e8cf314fd28f99417c94ae9ddf1cb6db8ce0e4b5995d40e90e62c",
    "u.genre": "9757e0d3e6b298159a80dd48eaf938114690e911e39af97a76949ef1663610bb",
    "u.occupation": "cd5fbec9afe345d993a62fc7817df1a4a9079c4feb267b3118763b8fd942137d",
    "u.info": "5b0a40b2e47a729ee6203063f6dcf8790c2e63f5a18663e6ee318a72c5f3c27b",
    "README": "4883b8cf340ed0059971b33f56ad3adc88a40792108ebca3d24aafc4c82e8b52",
    "u1.base": "ce253ec86c448b44fb3ba9a30d12dcfc2e9210cbde71efada3730c22e9ac212a",
    "u1.test": "18c6014a4b2c7324f250a63f8904a7b16b2b19f911129e346141507b0cbac950",
    "u2.base": "6c06f0b5df4b256da1a994f3ac66edc8da4d3f09bc9282df6b14d893366d703e",
    "u2.test": "4de658d1e04ed9104629509a2e2528fce833ac8e048280183f1df167632038c3",
    "u3.base": "afdc155c291c6edc41c0407e39d7462eb98d341e064f0b0a12175b80b3c4af5d",
    "u3.test": "0f548b51c78327de4c156461d3e430b7e5579fe2b5681586a59416e48fd35f6d",
    "u4.base": "219f0f4d40dfe9c5141d425f53fa91ee23ed275f14e280bbf1b50117afb064ca",
    "u4.test": "7c02ad0a1e7ab1083c8b9d4b627203a051dd7b5eab46d99fa44de33470de8db9",
    "u5.base": "a9574e59ce961eec2121627760b6e9b0974ce1637b3fe69ac32cb14a4bfab485",
    "u5.test": "351cc52e0d15b6c721466276fc24671d40936899e3d01fadeaf312915b8c5634",
    "ua.base": "67b5bcdb380c29f85d56a012ecd88612ae020f30a6730d117a334ee8203b91f2",
    "ua.test": "d0497e202417720f57a184ec8c66be2d1afa4ff41bb53787c57b28d6bf79bc42",
    "ub.base": "237254d253b6ad7de84f919d041055428646254f34ed8f562703c899430cd881",
    "ub.test": "d54a72d05730d5892062734b2bec73e976f9b713d18c828a18b968d6cce442da",
}

_ROSSMANN_OPTIONAL = {
    "sample_submission.csv": "28450b4b567f66bab94a055a6f82c48d61a669c188f21af70693ea87fb481dee",
    "googletrend/Rossmann_DE.csv": "a45718606dbc5038a0add240a23da05c0afcce412b5a6c47ee7c908fb1739ed8",
    "googletrend/Rossmann_DE_BE.csv": "fe4eaa3444a6ed7a5e37d9b33d1b535546e6d5c8888787663ecbc7d21fdb8701",
    "googletrend/Rossmann_DE_BW.csv": "2d163fab6e8a8218e6fa0350087e073b4ebe62273dcaa63ba64350b88bfb027e",
    "googletrend/Rossmann_DE_BY.csv": "d519c24032aaa7e2ccf835869d64b90f73a908f0b9d58dcda528c432389042e9",
    "googletrend/Rossmann_DE_HE.csv": "905e19ebb716906b615ef45bca976b3cf841c2fd4a1de398b5789836efa1bd42",
    "googletrend/Rossmann_DE_HH.csv": "559cedde6ad0b249bbe0ff0d7444414cee89babd53d0d13cf49bc267291eb1dc",
    "googletrend/Rossmann_DE_NI.csv": "73783631fdbcb8888667bfd5e7ca1f2c500c4606fca661753da8eda13513a1b5",
    "googletrend/Rossmann_DE_NW.csv": "57d57f369e45cbc8343720b2edfa6847185092145851ffa9aaa693536fa9eb63",
    "googletrend/Rossmann_DE_RP.csv": "2e7195889de1d502f35a0f0bbfd336934aa21d6433da6173b778de9300629db4",
    "googletrend/Rossmann_DE_SH.csv": "11fbed72bfda5ee028d08fd3b94c9f89db0ed6d3bc5645d9760501fad2879c1c",
    "googletrend/Rossmann_DE_SL.csv": "7bd0b19c1180ec80c4e9af0bf803cc040d9376256d3aa1ee6b061ab4adef6921",
    "googletrend/Rossmann_DE_SN.csv": "7ee213d1c3a051b9a30909ecd40b6525affa54fd2a6559fcb1d828897ba1cf02",
    "googletrend/Rossmann_DE_ST.csv": "fc416c4fc3de5603c3234bbaff88acad00b14bd5cb3e9189db2d464c5ae8493e",
    "googletrend/Rossmann_DE_TH.csv": "7a47a9ed0334fb5be57a31c28a4d4f1247d0f9fc1333d1dc07ed3bb1cd60dc47",
    "weather/BadenWuerttemberg.csv": "c3c6d717de43c9dd17546b52955b1d1c3cfd48aedb6e73a29aab666acbdb30dd",
    "weather/Bayern.csv": "18aa309de47ac82ac07b99f8745b84992e930fa8a59ed7d0d28977ad4021bce4",
    "weather/Berlin.csv": "457226853460c4a2a4f56a139021c75f14d36af673dfe605dc0d8f5ac65a447b",
    "weather/Brandenburg.csv": "2710b431470ae7b9214c7ff2cfe0b7296a1e0894568e661caab6fdf9d3210cf7",
    "weather/Bremen.csv": "ddc39a2f08c89a640c8d059d90e3a402e5db7af2e85debdb0f2dbb80a263e959",
    "weather/Hamburg.csv": "1ba9cbaaae7ce4d12e97615d203fed66b5953426443b33ecf494e30a4844b44b",
    "weather/Hessen.csv": "d61c880eef715ef9b6fce49c0730cf8c60ff3cec5afb5e9ce654653906d24e3d",
    "weather/MecklenburgVorpommern.csv": "3ffac775703830081a64981a94ffd3440de5458de09950679e2954ee79fb61ea",
    "weather/Niedersachsen.csv": "182ca87a14e2952368441457844ca89b2e8cc10f35a1605026d044b5d08e70d8",
    "weather/NordrheinWestfalen.csv": "6df57c8a186dfae9bcb2ab13fb563934ff6d5e4ed9d1cfa0be5de32e34e4ad43",
    "weather/RheinlandPfalz.csv": "39264926ecb3abd5a6629b0f0f69c46babbb4cd813c6f051283ea771c2fe4e06",
    "weather/Saarland.csv": "f44206309b80ac2ab763760cf6ad184a717e972ee2236885456dd56ab4bedfb1",
    "weather/Sachsen.csv": "34177cd3c45ecd7b6ac7b3f8c5db5a59ec5ee00a9498d6ed9ada92f67cad94a6",
    "weather/SachsenAnhalt.csv": "e1b288128315baa9717eda7fd0279268397c530416fa1f03cef5c2cd87ef1a08",
    "weather/SchleswigHolstein.csv": "3ffac775703830081a64981a94ffd3440de5458de09950679e2954ee79fb61ea",
    "weather/Thueringen.csv": "6ace42d2cb8156cf188e71978165e2e68ec895f21d9cd5bc5e1ff33dbfcae249",
}

DATASETS: dict[str, Dataset] = {
    d.name: d
    for d in [
        Dataset(
            name="ml-latest-small",
            urls=("https://files.grouplens.org/datasets/movielens/ml-latest-small.zip",),
            download_url="https://files.grouplens.org/datasets/movielens/ml-latest-small.zip",
            files={
                "ratings.csv": "aa289ca83157595d0df6aea1be6a4ded676ddc4385472e8313a8ed9805352646",
                "movies.csv": "5a5f32dd9bb3797b8e728a1b98958789d2b13f294a69fdfbc5727f8a9611aa07",
                "tags.csv": "92a9f8bb7916dceef6151209845788c3643f794dfa79d1feaec7121b5960399d",
                "links.csv": "97ad18e4e56a09363c65676b6cb3482ce3e2cea2372a24620c1599c843325f31",
                "README.txt": "e165937702ae1fac9237b6bd377f03d027f7ef97175d4a04a203e8b12d5516ea",
            },
            licence="GroupLens research licence: research use, no redistribution outside its terms, "
            "cite Harper & Konstan (2015).",
        ),
        Dataset(
            name="ml-100k",
            urls=("https://files.grouplens.org/datasets/movielens/ml-100k.zip",),
            download_url="https://files.grouplens.org/datasets/movielens/ml-100k.zip",
            files=_ML100K_HASHES,
            archive_hash="md5:0e33842e24a9c977be4e0107933c0723",
            licence="GroupLens: may not be redistributed without permission; download only.",
        ),
        Dataset(
            name="nietzsche",
            urls=("https://s3.amazonaws.com/text-datasets/nietzsche.txt",),
            download_url="https://s3.amazonaws.com/text-datasets/nietzsche.txt",
            files={
                "nietzsche.txt": "23cf69874ab69d3d256099ab530ea4be24d47d9675b673bcc67cbcd6298ec647"
            },
            archive=None,
            licence="Public domain (Project Gutenberg translation).",
        ),
        Dataset(
            name="rossmann",
            urls=(
                "https://www.kaggle.com/competitions/rossmann-store-sales/data",
                "https://files.fast.ai/part2/lesson14/rossmann.tgz",
            ),
            files={
                "store.csv": "f56bd124a2849489e6bbb5c000f5fc9640204355e316475c918ae4d089afb344",
                "test.csv": "f9d44250c2887afa4ce0e5b19b5383a2cb07667ca4eea07ed62b37dd41ba050b",
                "store_states.csv": "86df632ad7469a4ed961df9844ff8a15ef9cbcd545514945a7291ccfb32b9797",
            },
            optional=_ROSSMANN_OPTIONAL,
            download_url="https://files.fast.ai/part2/lesson14/rossmann.tgz",
            archive="tgz",
            licence="Kaggle competition rules: no redistribution outside Kaggle; download only.",
            manual=(
                "Rossmann comes from Kaggle and needs an account that accepted the competition "
                "rules: `pip install kaggle`, put your API token in ~/.kaggle/kaggle.json, then "
                "`kaggle competitions download -c rossmann-store-sales` and unzip into "
                "data/rossmann/. The extras (store_states.csv, googletrend, weather) come from "
                "fast.ai's rossmann.tgz. Without train.csv the course simulates one (see "
                "course_utils.data.rossmann)."
            ),
        ),
    ]
}


# --------------------------------------------------------------------------- locations


def data_dir() -> Path:
    """Where downloads land: the repository's `data/` (or a user cache for a plain install)."""
    if REPO_DATA.is_dir():
        return REPO_DATA
    return Path(pooch.os_cache("course_utils"))


def workbook_path(name: str) -> Path:
    """The course spreadsheet `name` in the repository's `excel/` (e.g. "collab_filter.xlsx")."""
    path = REPO_DATA.parent / "excel" / name
    if not path.exists():
        raise FileNotFoundError(
            f"No workbook {path}. The workbooks ship with the repository in excel/; rebuild them "
            "with `make workbooks` (python -m tools.workbooks)."
        )
    return path


def read_named(workbook: str, *names: str) -> dict[str, np.ndarray]:
    """The values of `names` (openpyxl defined names) in `excel/<workbook>`, as arrays.

    Reads the values saved with the workbook (the builder stores what LibreOffice calculated),
    so a notebook finds cells by name, never by position: `read_named("graddesc.xlsx",
    "sgd_lr")["sgd_lr"]` is a 0-d array, a range gives a 1-d or 2-d array (empty cells: NaN).
    """
    import openpyxl

    path = workbook_path(workbook)
    wb = openpyxl.load_workbook(path, data_only=True)
    out = {}
    for name in names:
        if name not in wb.defined_names:
            raise KeyError(
                f"{path.name} has no defined name {name!r}; it has "
                f"{', '.join(sorted(wb.defined_names))}. Rebuild it: make workbooks."
            )
        ((sheet, ref),) = wb.defined_names[name].destinations
        cells = wb[sheet][ref]
        cells = cells if isinstance(cells, tuple) else ((cells,),)
        rows = [[c.value for c in (row if isinstance(row, tuple) else (row,))] for row in cells]
        arr = np.array(rows, dtype=object)
        arr = arr.squeeze() if arr.size > 1 else arr.reshape(())
        try:
            arr = arr.astype(float)
        except (TypeError, ValueError):
            pass  # text (titles, ids as text): keep as objects
        out[name] = arr
    return out


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


_verified: dict[Path, tuple] = {}


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


# --------------------------------------------------------------------------- checks


def check_columns(df: pd.DataFrame, required: Iterable[str], source: str | Path) -> pd.DataFrame:
    """Raise `DataError` naming the file and the missing columns unless `df` has `required`."""
    missing = [c for c in required if c not in df.columns]
    if missing:
        raise DataError(
            f"{source} is missing column(s) {', '.join(map(repr, missing))}; it has "
            f"{', '.join(map(repr, df.columns))}. Is it the right file, with its header row?"
        )
    return df


# --------------------------------------------------------------------------- loaders


def load_movielens(path: str | os.PathLike | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """MovieLens `ml-latest-small`: `(ratings, movies)`.

    - ratings: userId (int32), movieId (int32), rating (float32, 0.5-5 in half stars),
      timestamp (datetime64, UTC).
    - movies: movieId (int32), title (str), genres (str, `|`-separated).
    """
    folder = find_dataset("ml-latest-small", path)
    ratings = pd.read_csv(
        folder / "ratings.csv", dtype={"userId": "int32", "movieId": "int32", "rating": "float32"}
    )
    check_columns(ratings, ["userId", "movieId", "rating", "timestamp"], folder / "ratings.csv")
    ratings["timestamp"] = pd.to_datetime(ratings["timestamp"], unit="s", utc=True)
    movies = pd.read_csv(folder / "movies.csv", dtype={"movieId": "int32"})
    check_columns(movies, ["movieId", "title", "genres"], folder / "movies.csv")
    return ratings, movies


ML100K_GENRES = [
    "unknown",
    "Action",
    "Adventure",
    "Animation",
    "Children's",
    "Comedy",
    "Crime",
    "Documentary",
    "Drama",
    "Fantasy",
    "Film-Noir",
    "Horror",
    "Musical",
    "Mystery",
    "Romance",
    "Sci-Fi",
    "Thriller",
    "War",
    "Western",
]


def _read_udata(file: Path) -> pd.DataFrame:
    df = pd.read_csv(
        file,
        sep="\t",
        header=None,
        names=["userId", "movieId", "rating", "timestamp"],
        dtype={"userId": "int32", "movieId": "int32", "rating": "float32", "timestamp": "int64"},
    )
    if df.isna().any().any():
        raise DataError(
            f"{file} has missing values: expected 4 tab-separated columns "
            "user item rating timestamp on every line."
        )
    df["timestamp"] = pd.to_datetime(df["timestamp"], unit="s", utc=True)
    return df


def load_ml100k(path: str | os.PathLike | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """MovieLens 100K: `(ratings, movies)` with the same column names as `load_movielens`.

    movies has movieId, title, release_date, url and one 0/1 column per genre, plus a
    `genres` column joined with `|` as in ml-latest-small. u.item is latin-1 encoded.
    """
    folder = find_dataset("ml-100k", path)
    ratings = _read_udata(folder / "u.data")
    cols = ["movieId", "title", "release_date", "video_release_date", "url", *ML100K_GENRES]
    movies = pd.read_csv(
        folder / "u.item",
        sep="|",
        header=None,
        names=cols,
        encoding="latin-1",
        dtype={"movieId": "int32"},
    )
    movies = movies.drop(columns="video_release_date")
    movies["release_date"] = pd.to_datetime(movies["release_date"], format="%d-%b-%Y")
    flags = movies[ML100K_GENRES].astype(bool)
    movies["genres"] = flags.apply(lambda r: "|".join(g for g, on in r.items() if on), axis=1)
    return ratings, movies


def load_ml100k_split(
    split: str = "u1", path: str | os.PathLike | None = None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """One of ML-100K's standard splits (`u1`..`u5`, `ua`, `ub`): `(train, test)` ratings."""
    folder = find_dataset("ml-100k", path)
    if f"{split}.base" not in DATASETS["ml-100k"].files:
        raise DataError(f"Unknown ML-100K split {split!r}: use u1..u5, ua or ub.")
    return _read_udata(folder / f"{split}.base"), _read_udata(folder / f"{split}.test")


def load_nietzsche(path: str | os.PathLike | None = None) -> str:
    """The Nietzsche text used by the char-RNN lessons (600,893 characters)."""
    folder = find_dataset("nietzsche", path)
    return (folder / "nietzsche.txt").read_text(encoding="utf-8")


def movie_titles(movies: pd.DataFrame) -> dict[int, str]:
    """`{movieId: title}` for a movies table from `load_movielens` or `load_ml100k`."""
    check_columns(movies, ["movieId", "title"], "movies table")
    return dict(zip(movies["movieId"].tolist(), movies["title"].tolist(), strict=True))


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
    print("Searched, in order:", ", ".join(str(p) for p in search_dirs()))
    status = 0
    for name in names:
        try:
            print(f"{name:16} {find_dataset(name, download=download)}")
        except DataError as e:
            status = 1
            print(f"{name:16} NOT FOUND - {str(e).splitlines()[0]}")
    return status
