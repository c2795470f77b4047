"""course_utils: the small library the course builds, lesson by lesson.

Modules (each short enough to read in one sitting; a file's name says what it holds):
    learner    train_step, fit, evaluate, predict: the training loop
    history    the loss log (debiased moving average) and History, the table fit returns
    device_data DeviceData: the tensors on the device, batches by index slicing
    schedules  one_cycle and sgdr (learning-rate schedules), lr_find
    device     get_device, set_threads, set_seed, fused_ok
    files      atomic_write, save_model, load_model, model_path
    checks     the guard rails every public function shares (inputs, numbers, environment)
    table_checks the guard rails for tables: frames, columns, dates, codes, event flags
    collab     lesson 1: ids, the collaborative-filtering models, training
    recommend  lesson 1: recommendations, popularity fallback, a new user's row
    interpret  lesson 2: cosine neighbours, genre correlations
    optim      lesson 4: SGD, momentum, Adagrad, RMSProp, Adam, AdamW written out
    line_fit   lesson 4: the line-fitting problem, its loss surface, optimizer paths
    text       lessons 5-6: characters to tensors, the sequence loss, sampling, saving
    char_models lessons 5-6: the char-RNN models, identity_init, fit_seeds and mean_sd
    tabular    lesson 3: joins, date features, MixedInputModel, exp_rmspe
    widgets    the interactive explorers, label placement
    animation  the SGD animation's player: first frame visible, no CDN
    figures    a notebook's figures as palette PNGs (the same pictures at a fifth of the bytes)
    workspace  the students' own copies in my-notebooks/ (`make lab`, `make refresh`)
    diagrams   the lessons' model diagrams: inputs, activations, outputs, shared weights
    drawing    the pieces the diagrams are drawn with: Node, Edge, draw
    exercises/ the checkers behind each lesson's exercises (`check_...`), one module per lesson
    data/      finding, verifying and loading the data sets (Rossmann loader and stand-in)

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
    movie_titles,
)
from course_utils.device import get_device, set_seed, set_threads
from course_utils.device_data import DeviceData
from course_utils.files import load_model, model_path, save_model
from course_utils.history import History, TrainingDiverged
from course_utils.learner import evaluate, fit, predict, train_step
from course_utils.schedules import lr_find, one_cycle, sgdr

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
    "model_path",
    "movie_titles",
    "one_cycle",
    "predict",
    "save_model",
    "set_seed",
    "set_threads",
    "sgdr",
    "show_source",
    "train_step",
]


def show_source(*objects: object) -> None:
    """Show the source code of course_utils functions or classes in the notebook, so that
    what a lesson runs can be read right where it runs."""
    from IPython.display import Code, display

    display(Code("\n\n".join(inspect.getsource(o) for o in objects), language="python"))


set_threads()
