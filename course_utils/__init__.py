"""course_utils: the small library the course builds and uses.

Modules (each short enough to read in one sitting):
    data      finding, verifying and loading the data sets
    learner   DeviceData, fit, lr_find, schedules, seeding, save/load
    bench     `python -m course_utils.bench fit|collab|rnn`
"""

from course_utils.data import (
    DataError,
    find_dataset,
    load_ml100k,
    load_ml100k_split,
    load_movielens,
    load_nietzsche,
    movie_titles,
)
from course_utils.learner import (
    DeviceData,
    History,
    TrainingDiverged,
    evaluate,
    fit,
    get_device,
    load_model,
    lr_find,
    one_cycle,
    predict,
    save_model,
    set_seed,
    sgdr,
)

__version__ = "0.1.0"

__all__ = [
    "DataError",
    "DeviceData",
    "History",
    "TrainingDiverged",
    "evaluate",
    "find_dataset",
    "fit",
    "get_device",
    "load_ml100k",
    "load_ml100k_split",
    "load_model",
    "load_movielens",
    "load_nietzsche",
    "lr_find",
    "movie_titles",
    "one_cycle",
    "predict",
    "save_model",
    "set_seed",
    "sgdr",
]
