"""Reference solutions to the exercises at the end of each lesson notebook.

One module per lesson, one function per exercise, with the name the exercise asks for.
Try each exercise first: the checker under it says what is wrong and why. To check a
solution from here, e.g. `from solutions.lesson5_movielens import contiguous_ids` in the
notebook, then run the checker cell. `tests/test_exercises.py` checks every one.
"""
