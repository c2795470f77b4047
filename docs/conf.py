"""Sphinx configuration of the course website (`make site`, output in build/site/).

Sphinx with MyST-NB rather than Jupyter Book 2: it builds offline from pip packages alone
(Jupyter Book 2 fetches its site template over the network and needs Node.js), renders the
committed notebooks without running them (`nb_execution_mode = "off"`), and writes the API
page from the docstrings of `course_utils` (autodoc), which MyST's JavaScript tool cannot.
The lesson pages are copies of notebooks/*.ipynb made by `_ext/course_site.py` at every
build (widgets replaced by a picture and a sentence, the test tags taken off, the terms below
indexed; see there). `make site` builds with warnings as errors (-W).
"""

from __future__ import annotations

import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
REPO = DOCS.parent
sys.path[:0] = [str(DOCS / "_ext"), str(REPO)]

project = "Deep learning by building it"
author = "the course authors"
copyright = "the course authors, Apache-2.0"  # noqa: A001 (Sphinx's name)
language = "en"

extensions = [
    "myst_nb",
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "sphinx.ext.viewcode",
    "sphinx-mathjax-offline",  # MathJax served from the site itself, not from a CDN
    "course_site",
]

root_doc = "index"
exclude_patterns = ["_build", "**/.ipynb_checkpoints", "images/README.md"]
templates_path: list[str] = []
html_static_path = ["_static"]
html_css_files = ["course.css"]

# --- the notebooks: shown as committed, never executed here
nb_execution_mode = "off"
nb_merge_streams = True
nb_render_markdown_format = "myst"  # the widget fallbacks are MyST markdown outputs
nb_ipywidgets_js: dict = {}  # no widget JavaScript from a CDN (widgets become pictures)
myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence", "deflist", "smartquotes"]
myst_heading_anchors = 3
suppress_warnings = ["mystnb.unknown_mime_type", "myst.header"]

# --- the API page
autodoc_member_order = "bysource"
autodoc_typehints = "description"
autodoc_default_options = {"members": True, "show-inheritance": True, "ignore-module-all": True}
napoleon_google_docstring = True
napoleon_numpy_docstring = False
default_role = "py:obj"  # `name` in a docstring links to it when it is documented

# --- the look
html_theme = "sphinx_book_theme"
html_title = "Deep learning by building it"
html_theme_options = {
    "show_toc_level": 2,
    "navigation_with_keys": False,
    "use_download_button": True,
    "home_page_in_toc": True,
    # One search box, the sidebar's: pydata-sphinx-theme would add a second one in a header
    # bar above the page when this is not given.
    "navbar_persistent": [],
}
html_context = {"default_mode": "light"}  # pydata-sphinx-theme logs an error without it
html_copy_source = True  # the download button offers the page source (a lesson: its notebook)
html_show_sourcelink = False
html_favicon = "_static/favicon.svg"

# --- search: the lesson that teaches a word comes first
# Each lesson page gets an index entry for every term here (`course_site.py` adds them under its
# title). Sphinx's search ranks a query that matches an index entry far above a word that merely
# occurs in a page, so "momentum" lists lesson6-sgd first rather than in alphabetical order
# among every page that mentions momentum. The terms are what each lesson teaches; a word two
# lessons teach belongs to the one that introduces it. Comma-separated, as in Sphinx's `index`.
course_lesson_terms = {
    "00-setup-check": "setup, installation, device, environment",
    "lesson5-movielens": (
        "collaborative filtering, recommendation, embedding, dot product, MovieLens, "
        "EmbeddingDot, EmbeddingDotBias, EmbeddingNet, bias, L2 regularisation"
    ),
    "lesson5-embeddings": (
        "interpreting embeddings, PCA, principal component analysis, movie bias, "
        "cosine similarity, nearest neighbours"
    ),
    "lesson3-rossmann": (
        "entity embeddings, tabular data, categorical variables, continuous variables, Rossmann, "
        "RMSPE, MixedInputModel, feature engineering, learning rate finder"
    ),
    "lesson6-sgd": (
        "SGD, stochastic gradient descent, gradient descent, momentum, Adagrad, RMSProp, Adam, "
        "AdamW, optimizer, weight decay, learning rate, exponentially weighted average, "
        "debiasing, autograd, initialisation, logistic regression"
    ),
    "lesson6-rnn": (
        "RNN, recurrent neural network, character model, language model, nn.RNN, "
        "identity initialisation"
    ),
    "lesson6-rnn-gated": (
        "GRU, LSTM, stateful RNN, backpropagation through time, BPTT, gradient clipping, "
        "stacked RNN, temperature, sampling"
    ),
}
