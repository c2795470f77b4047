"""course_utils.workspace: the student's copies of the lessons in my-notebooks/ (seed, refresh,
what changed), and the check that the course's own notebooks were not run in place."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from course_utils import workspace
from course_utils.workspace import Workspace

REPO = Path(__file__).resolve().parents[1]


def _lesson(path: Path, text: str, output: str | None = None) -> None:
    cell = nbformat.v4.new_code_cell("print('hi')", id="code-1")
    if output is not None:
        cell.outputs = [nbformat.v4.new_output("stream", text=output)]
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(text, id="md-1"), cell])
    nbformat.write(nb, path)


@pytest.fixture
def course(tmp_path: Path) -> Workspace:
    src = tmp_path / "notebooks"
    src.mkdir()
    _lesson(src / "lesson1-intro.ipynb", "# Lesson 1")
    _lesson(src / "lesson2-more.ipynb", "# Lesson 2")
    return Workspace(src, tmp_path / "my-notebooks")


def test_seed_copies_every_lesson_once(course: Workspace) -> None:
    assert course.seed() == ["lesson1-intro.ipynb", "lesson2-more.ipynb"]
    mine = course.target / "lesson1-intro.ipynb"
    assert mine.read_bytes() == (course.source / "lesson1-intro.ipynb").read_bytes()
    manifest = json.loads((course.target / workspace.MANIFEST).read_text())
    assert set(manifest) == {"lesson1-intro.ipynb", "lesson2-more.ipynb"}
    # the student works in the copy; seeding again never overwrites it
    _lesson(mine, "# Lesson 1", output="my answer\n")
    assert course.seed() == []
    assert "my answer" in mine.read_text()
    assert course.edited() == ["lesson1-intro.ipynb"]
    # a lesson added to the course is copied on the next seed
    _lesson(course.source / "lesson3-new.ipynb", "# Lesson 3")
    assert course.seed() == ["lesson3-new.ipynb"]


def test_slide_stylesheets_follow_the_course(course: Workspace) -> None:
    (course.source / "rise.css").write_text("h1 { color: red }")
    course.seed()
    assert (course.target / "rise.css").read_text() == "h1 { color: red }"
    (course.source / "rise.css").write_text("h1 { color: blue }")
    course.seed()  # the course's file, not the student's: kept current
    assert (course.target / "rise.css").read_text() == "h1 { color: blue }"


def test_changed_upstream_ignores_outputs(course: Workspace) -> None:
    course.seed()
    assert course.changed_upstream() == []
    # re-executed in the course (new outputs, same lesson): not a change worth a refresh
    _lesson(course.source / "lesson1-intro.ipynb", "# Lesson 1", output="new numbers\n")
    assert course.changed_upstream() == []
    # the lesson's text changed
    _lesson(course.source / "lesson2-more.ipynb", "# Lesson 2, rewritten")
    assert course.changed_upstream() == ["lesson2-more.ipynb"]


def test_refresh_one_lesson_keeps_a_backup(course: Workspace) -> None:
    course.seed()
    mine = course.target / "lesson2-more.ipynb"
    _lesson(mine, "# Lesson 2", output="my answer\n")
    _lesson(course.source / "lesson2-more.ipynb", "# Lesson 2, rewritten")
    ((name, backup),) = course.refresh(["lesson2-more"])
    assert name == "lesson2-more.ipynb" and backup is not None
    assert backup.parent == course.target and backup.name.startswith("lesson2-more.backup-")
    assert "my answer" in backup.read_text()
    assert mine.read_bytes() == (course.source / "lesson2-more.ipynb").read_bytes()
    assert course.changed_upstream() == [] and course.edited() == []
    # a copy that is the course's version needs no backup; two refreshes never collide
    assert course.refresh(["notebooks/lesson2-more.ipynb"]) == [("lesson2-more.ipynb", None)]
    _lesson(mine, "# mine again")
    ((_, second),) = course.refresh(["lesson2-more"])
    _lesson(mine, "# and again")
    ((_, third),) = course.refresh(["my-notebooks/lesson2-more.ipynb"])
    assert second is not None and third is not None and second != third


def test_refresh_all_and_unknown_lessons(course: Workspace) -> None:
    course.seed()
    (course.target / "lesson1-intro.ipynb").unlink()  # deleted by the student: comes back
    done = dict(course.refresh())
    assert set(done) == {"lesson1-intro.ipynb", "lesson2-more.ipynb"}
    assert (course.target / "lesson1-intro.ipynb").exists()
    with pytest.raises(KeyError, match="Did you mean lesson2-more"):
        course.refresh(["more"])
    with pytest.raises(KeyError, match="lesson1-intro, lesson2-more"):
        course.refresh(["lesson9"])


def test_command_line(course: Workspace, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["--source", str(course.source), "--target", str(course.target)]
    assert workspace.main([*args, "seed"]) == 0
    assert "your own copies of the 2 lessons" in capsys.readouterr().out
    _lesson(course.source / "lesson1-intro.ipynb", "# Lesson 1, new")
    assert workspace.main([*args, "seed"]) == 0
    out = capsys.readouterr().out
    assert "changed in the course since you copied them: lesson1-intro" in out
    assert "make refresh NB=" in out
    assert workspace.main([*args, "status"]) == 0
    assert "changed in the course" in capsys.readouterr().out
    assert workspace.main([*args, "refresh", "lesson1-intro"]) == 0
    assert "refreshed from the course" in capsys.readouterr().out
    assert workspace.main([*args, "refresh", "nope"]) == 2
    assert "There is no lesson 'nope'" in capsys.readouterr().err
    missing = ["--source", str(course.source.parent / "absent"), "--target", str(course.target)]
    assert workspace.main([*missing, "seed"]) == 2
    assert "No course notebooks" in capsys.readouterr().err


def test_data_models_and_workbooks_are_found_from_any_folder(tmp_path: Path) -> None:
    """A kernel in my-notebooks/ (or anywhere) finds data/, data/models/ and excel/ of the
    repository: they are located from the package, not from the working directory."""
    code = (
        "from course_utils import data, model_path\n"
        "print(data.data_dir()); print(model_path('x.pt').parent)\n"
        "print(data.workbook_path('graddesc.xlsx'))\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "COURSE_DATA"}
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=True,
    ).stdout.splitlines()
    assert [Path(p) for p in out] == [
        REPO / "data",
        REPO / "data" / "models",
        REPO / "excel" / "graddesc.xlsx",
    ]


def test_workspace_is_git_ignored() -> None:
    if subprocess.run(["git", "-C", str(REPO), "rev-parse"], capture_output=True).returncode:
        pytest.skip("not a git checkout")
    res = subprocess.run(
        ["git", "-C", str(REPO), "check-ignore", "-q", "my-notebooks/lesson1.ipynb"],
        capture_output=True,
    )
    assert res.returncode == 0, "my-notebooks/ must be in .gitignore"


def _git(repo: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@t", *args],
        check=True,
        capture_output=True,
    )


def test_a_notebook_run_in_place_is_recognised(tmp_path: Path, monkeypatch) -> None:
    """Outputs that changed while the execution record did not: JupyterLab saved a run into
    the course's notebook. Re-executed by tools.run_notebooks (new timestamps) or edited in
    its text only: not reported."""
    if subprocess.run(["git", "--version"], capture_output=True).returncode:
        pytest.skip("git is not installed")
    monkeypatch.setattr(workspace, "REPO", tmp_path)
    nb_path = tmp_path / "notebooks" / "lesson.ipynb"
    nb_path.parent.mkdir()
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1 + 1", id="c1")])
    nb.cells[0].execution_count = 1
    nb.cells[0].metadata["execution"] = {"shell.execute_reply": "2026-01-01T00:00:00Z"}
    nb.cells[0].outputs = [nbformat.v4.new_output("execute_result", {"text/plain": "2"})]
    nbformat.write(nb, nb_path)
    _git(tmp_path, "init", "-q")
    _git(tmp_path, "add", ".")
    _git(tmp_path, "commit", "-qm", "course")
    assert workspace.in_place_run(nb_path) == [] and workspace.in_place_message(nb_path) is None

    nb.cells[0].execution_count = 7  # the student's run in JupyterLab, autosaved
    nbformat.write(nb, nb_path)
    assert workspace.in_place_run(nb_path) == [0]
    message = workspace.in_place_message(nb_path)
    assert "notebooks/lesson.ipynb was edited" in message
    assert "my-notebooks/" in message and "git checkout notebooks/lesson.ipynb" in message

    nb.cells[0].metadata["execution"] = {"shell.execute_reply": "2026-02-02T00:00:00Z"}
    nbformat.write(nb, nb_path)  # re-executed by the maintainers' tool
    assert workspace.in_place_run(nb_path) == []


@pytest.mark.parametrize("path", sorted((REPO / "notebooks").glob("*.ipynb")), ids=lambda p: p.name)
def test_course_notebooks_were_not_run_in_place(path: Path) -> None:
    message = workspace.in_place_message(path)
    assert message is None, message
