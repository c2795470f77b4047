"""The checkers behind each lesson's exercises, one module per lesson (`core` says how they work).

`from course_utils.exercises import check_rmspe` finds any lesson's checker.
"""

from course_utils.exercises.embeddings import check_nearest_by_cosine, check_pca_scores
from course_utils.exercises.movielens import check_contiguous_ids, check_predict_rating
from course_utils.exercises.rnn import check_rnn_step, check_temperature_probs
from course_utils.exercises.rossmann import check_days_since_last, check_rmspe
from course_utils.exercises.sgd import (
    check_ewma_debiased,
    check_kaiming_init,
    check_momentum_step,
    check_train_one_epoch,
    check_valley_axis,
)

__all__ = [
    "check_contiguous_ids",
    "check_days_since_last",
    "check_ewma_debiased",
    "check_kaiming_init",
    "check_momentum_step",
    "check_nearest_by_cosine",
    "check_pca_scores",
    "check_predict_rating",
    "check_rmspe",
    "check_rnn_step",
    "check_temperature_probs",
    "check_train_one_epoch",
    "check_valley_axis",
]
