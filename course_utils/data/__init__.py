"""Finding, downloading, verifying and loading the course data sets.

Every data set the course uses is registered with its official source, the files it must
contain and the sha256 of each file; `find_dataset(name)` looks for a copy (an explicit
`path`, then `$COURSE_DATA/<name>`, then the repository's `data/<name>`, then a download from
the official URL) and checks every file against its sha256 before anything is read, so a
truncated download, a different release or an edited file is reported, never silently
loaded. The loaders return tidy pandas objects.

This package's index imports the public names of its modules, so
`from course_utils.data import load_movielens` and `cdata.find_dataset(...)` work; each
module holds one concept:

* `errors`: `DataError` and `check_columns`, how bad data is reported.
* `registry`: `Dataset` and `DATASETS`, the data sets with their URLs, files and sha256.
* `fetch`: `find_dataset`, `verify`, `search_dirs`, `candidate_folders`, `data_dir`,
  `sha256`, the download and unpacking, and the command line (`main`).
* `movielens`: `load_movielens`, `load_ml100k`, `load_ml100k_split`, `movie_titles`,
  `ML100K_GENRES`.
* `nietzsche`: `load_nietzsche`.
* `workbooks`: `workbook_path`, `read_named` (the spreadsheets in `excel/`).
* `rossmann` (import it by name; the other `rossmann_*` modules are its parts):
  `load_rossmann` and the Rossmann tables, see its docstring.

Command line: `python -m course_utils.data` lists where each data set was found;
`python -m course_utils.data fetch NAME` downloads one.
"""

from __future__ import annotations

from course_utils.data.errors import DataError, check_columns
from course_utils.data.fetch import (
    candidate_folders,
    data_dir,
    find_dataset,
    forget_verified,
    main,
    search_dirs,
    sha256,
    verify,
)
from course_utils.data.movielens import (
    ML100K_GENRES,
    load_ml100k,
    load_ml100k_split,
    load_movielens,
    movie_titles,
)
from course_utils.data.nietzsche import load_nietzsche
from course_utils.data.registry import DATASETS, Dataset
from course_utils.data.workbooks import read_named, workbook_path
from course_utils.files import atomic_write, model_path

__all__ = [
    "DATASETS",
    "DataError",
    "Dataset",
    "ML100K_GENRES",
    "atomic_write",
    "candidate_folders",
    "check_columns",
    "data_dir",
    "find_dataset",
    "forget_verified",
    "load_ml100k",
    "load_ml100k_split",
    "load_movielens",
    "load_nietzsche",
    "main",
    "model_path",
    "movie_titles",
    "read_named",
    "search_dirs",
    "sha256",
    "verify",
    "workbook_path",
]
