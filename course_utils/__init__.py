"""course_utils: the small library the course builds, lesson by lesson.

Modules (each short enough to read in one sitting):
    learner   DeviceData, fit, train_step, evaluate, predict, lr_find, schedules, save/load
    collab    lesson 5: ids, the collaborative-filtering models, training, recommendations
    optim     lesson 6: SGD, momentum, Adagrad, RMSProp, Adam, AdamW written out
    sgd       lesson 6: the line-fitting problem, its loss surface, optimizer paths
    text      lesson 6: characters to tensors, the char-RNN models, sampling
    tabular   Rossmann: joins, date features, MixedInputModel, exp_rmspe
    widgets   the interactive explorers, the SGD animation, label placement
    diagrams  the lessons' model diagrams: inputs, activations, outputs, shared weights
    exercises the checkers behind each lesson's exercises (`check_...`)
    data/     finding, verifying and loading the data sets (Rossmann loader and stand-in)

The maintainers' tooling (workbook builders, notebook runner, benchmarks) lives in `tools/`.
`import course_utils` sets PyTorch's CPU threads once (see `set_threads`).
"""

from __future__ import annotations

import inspect

from course_utils.data import (
    DataError,
    find_dataset,
    load_ml100k,
    load_ml100k_split,
    load_movielens,
    load_nietzsche,
    model_path,
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
    set_threads,
    sgdr,
    train_step,
)

__version__ = "0.1.0"

__all__ = [
    "DataError", "DeviceData", "History", "TrainingDiverged", "evaluate", "find_dataset", "fit",
    "get_device", "load_ml100k", "load_ml100k_split", "load_model", "load_movielens",
    "load_nietzsche", "lr_find", "model_path", "movie_titles", "one_cycle", "predict",
    "save_model", "set_seed", "set_threads", "sgdr", "show_source", "train_step",
]


def show_source(*objects: object) -> None:
    """Show the source code of course_utils functions or classes in the notebook, so that
    what a lesson runs can be read right where it runs."""
    from IPython.display import Code, display

    display(Code("\n\n".join(inspect.getsource(o) for o in objects), language="python"))


set_threads()
