"""Your own copies of the lessons: `my-notebooks/`, seeded from the course's `notebooks/`.

    python -m course_utils.workspace seed              # make lab runs this: copy missing lessons
    python -m course_utils.workspace refresh [LESSON]  # make refresh [NB=LESSON]: the course's again
    python -m course_utils.workspace status            # which lessons you edited, which changed

The committed `notebooks/` are the course: the tests, the slides and the website are made from
them, and `git pull` updates them. You run, edit and answer the exercises in your copies in the
git-ignored `my-notebooks/`, so nothing you do there conflicts with an update. `seed` copies
every lesson you do not have yet and never overwrites one; `refresh` replaces your copy with the
course's current one and keeps yours beside it as `NAME.backup-<date-time>.ipynb`. A small
manifest (`my-notebooks/.course-manifest.json`) remembers what each copy was made from, so both
commands can say which lessons changed in the course since you copied them.

Data sets, saved models (`data/models/`) and the workbooks (`excel/`) are found from the
repository, not from the folder a notebook runs in, so the copies work exactly like the
originals; `my-notebooks/` sits beside `notebooks/`, so their `../excel/...` links work too.
The slideshow's stylesheets (`rise.css`, `<lesson>.css`) are copied along and kept current.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from course_utils.files import atomic_write

__all__ = [
    "Workspace",
    "in_place_run",
    "main",
]

REPO = Path(__file__).resolve().parents[1]
MANIFEST = ".course-manifest.json"


def lesson_hash(path: Path) -> str:
    """A hash of what a lesson teaches: its cells' types and sources, not outputs or metadata
    (re-executing a lesson changes its outputs, not the lesson)."""
    cells = json.loads(path.read_text(encoding="utf-8")).get("cells", [])
    text = json.dumps(
        [[c.get("cell_type"), "".join(c.get("source", ""))] for c in cells], ensure_ascii=False
    )
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _file_hash(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@dataclass
class Workspace:
    """The course's lessons (`source`) and the student's copies of them (`target`)."""

    source: Path = REPO / "notebooks"
    target: Path = REPO / "my-notebooks"

    # ----- what there is

    def lessons(self) -> list[str]:
        """The course's lesson files (names such as `lesson5-movielens.ipynb`), sorted."""
        if not self.source.is_dir():
            raise FileNotFoundError(
                f"No course notebooks at {self.source}: run this from a clone of the course "
                "repository, installed with `pip install -e .` (or `make setup`)."
            )
        return sorted(p.name for p in self.source.glob("*.ipynb"))

    def resolve(self, name: str) -> str:
        """The lesson file meant by `name`: `lesson5-movielens`, `lesson5-movielens.ipynb`,
        `notebooks/lesson5-movielens.ipynb` or `my-notebooks/lesson5-movielens.ipynb`."""
        lessons = self.lessons()
        stem = Path(name).name.removesuffix(".ipynb")
        if f"{stem}.ipynb" in lessons:
            return f"{stem}.ipynb"
        close = [n for n in lessons if stem and stem in n]
        hint = (
            f" Did you mean {', '.join(c.removesuffix('.ipynb') for c in close)}?" if close else ""
        )
        raise KeyError(
            f"There is no lesson {name!r} in {self.source}.{hint} The lessons: "
            f"{', '.join(n.removesuffix('.ipynb') for n in lessons)}."
        )

    def manifest(self) -> dict[str, dict[str, str]]:
        """Per copied lesson: `lesson` (the `lesson_hash` of the course's version it was copied
        from), `file` (that version's sha256) and `copied` (when)."""
        path = self.target / MANIFEST
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (json.JSONDecodeError, UnicodeDecodeError):
            print(f"note: {path} is unreadable; starting a new one", file=sys.stderr)
            return {}

    def _write_manifest(self, manifest: dict[str, dict[str, str]]) -> None:
        with atomic_write(self.target / MANIFEST) as tmp:
            tmp.write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n", encoding="utf-8")

    def changed_upstream(self) -> list[str]:
        """Lessons whose text or code changed in the course since they were copied."""
        manifest, out = self.manifest(), []
        for name in self.lessons():
            seeded = manifest.get(name)
            if seeded and (self.target / name).exists():
                if lesson_hash(self.source / name) != seeded.get("lesson"):
                    out.append(name)
        return out

    def edited(self) -> list[str]:
        """Lessons whose copy differs from the course version it was copied from."""
        manifest = self.manifest()
        return [
            name
            for name in self.lessons()
            if name in manifest
            and (self.target / name).exists()
            and _file_hash(self.target / name) != manifest[name].get("file")
        ]

    # ----- what changes

    def _copy(self, name: str, manifest: dict[str, dict[str, str]]) -> None:
        src = self.source / name
        with atomic_write(self.target / name) as tmp:
            shutil.copyfile(src, tmp)
        manifest[name] = {
            "lesson": lesson_hash(src),
            "file": _file_hash(src),
            "copied": time.strftime("%Y-%m-%d %H:%M:%S"),
        }

    def _copy_styles(self) -> None:
        """The slideshow's stylesheets (`rise.css`, `<lesson>.css`) belong to the course, not to
        the student: copied whenever they are missing or differ from the course's."""
        for css in sorted(self.source.glob("*.css")):
            mine = self.target / css.name
            if not mine.exists() or mine.read_bytes() != css.read_bytes():
                with atomic_write(mine) as tmp:
                    shutil.copyfile(css, tmp)

    def seed(self) -> list[str]:
        """Copy every lesson that is not in the workspace yet (never overwrite one); returns
        the names copied."""
        lessons = self.lessons()
        self.target.mkdir(parents=True, exist_ok=True)
        manifest, copied = self.manifest(), []
        for name in lessons:
            if not (self.target / name).exists():
                self._copy(name, manifest)
                copied.append(name)
        if copied or not (self.target / MANIFEST).exists():
            self._write_manifest(manifest)
        self._copy_styles()
        return copied

    def refresh(self, names: list[str] | None = None) -> list[tuple[str, Path | None]]:
        """Replace the copies of `names` (default: every lesson) with the course's current
        version. A copy that differs from it is kept first as `NAME.backup-<date-time>.ipynb`.
        Returns `(lesson, backup or None)` for each lesson refreshed."""
        wanted = [self.resolve(n) for n in names] if names else self.lessons()
        self.target.mkdir(parents=True, exist_ok=True)
        manifest, stamp, done = self.manifest(), time.strftime("%Y-%m-%d-%H%M%S"), []
        for name in wanted:
            mine, backup = self.target / name, None
            if mine.exists() and _file_hash(mine) != _file_hash(self.source / name):
                backup = mine.with_name(f"{mine.stem}.backup-{stamp}.ipynb")
                n = 1
                while backup.exists():  # two refreshes within a second
                    n += 1
                    backup = mine.with_name(f"{mine.stem}.backup-{stamp}-{n}.ipynb")
                shutil.copy2(mine, backup)
            self._copy(name, manifest)
            done.append((name, backup))
        self._write_manifest(manifest)
        self._copy_styles()
        return done


# --------------------------------------------------------------------------- the course's copy


def _git_show(path: Path) -> bytes | None:
    """The committed (HEAD) content of `path`, or None (no git, not tracked, not a repo)."""
    try:
        rel = path.resolve().relative_to(REPO).as_posix()
        res = subprocess.run(
            ["git", "-C", str(REPO), "show", f"HEAD:{rel}"],
            capture_output=True,
            timeout=30,
        )
    except (ValueError, OSError, subprocess.SubprocessError):
        return None
    return res.stdout if res.returncode == 0 else None


def in_place_run(path: Path) -> list[int]:
    """Cells of the course notebook `path` whose outputs differ from the committed version
    while their execution record (the timestamps `tools.run_notebooks` writes) does not: a
    sign that the notebook was run in JupyterLab and saved in place, not re-executed by the
    maintainers' tool. Returns the cell indices (empty: not run in place, or no git here)."""
    committed = _git_show(path)
    if committed is None or committed == path.read_bytes():
        return []
    try:
        now = json.loads(path.read_text(encoding="utf-8"))["cells"]
        then = json.loads(committed.decode("utf-8"))["cells"]
    except (ValueError, KeyError):
        return []
    then_by_id = {c.get("id"): c for c in then if c.get("id")}
    out = []
    for i, cell in enumerate(now):
        old = then_by_id.get(cell.get("id")) or (then[i] if i < len(then) else None)
        if cell.get("cell_type") != "code" or old is None or old.get("cell_type") != "code":
            continue
        ran = (cell.get("outputs"), cell.get("execution_count")) != (
            old.get("outputs"),
            old.get("execution_count"),
        )
        timing = cell.get("metadata", {}).get("execution")
        if ran and timing == old.get("metadata", {}).get("execution"):
            out.append(i)
    return out


def in_place_message(path: Path) -> str | None:
    """What to tell someone whose course notebook was run in place (None: it was not)."""
    cells = in_place_run(path)
    if not cells:
        return None
    rel = path.resolve().relative_to(REPO).as_posix()
    shown = ", ".join(map(str, cells[:8])) + (", ..." if len(cells) > 8 else "")
    return (
        f"{rel} was edited: cells {shown} hold outputs from a run in JupyterLab, saved into the "
        f"course's copy (was it run in place?). Students work in my-notebooks/ (`make lab`); "
        f"restore the course's version with `git checkout {rel}` (copy it to my-notebooks/ "
        f"first to keep your work). Maintainers changing the lesson re-execute it with "
        f"`make notebooks NB={rel}`, then run `python -m tools.slides`."
    )


# --------------------------------------------------------------------------- command line


def _label(name: str) -> str:
    return name.removesuffix(".ipynb")


def _say_changed(ws: Workspace) -> None:
    changed = ws.changed_upstream()
    if changed:
        names = " ".join(map(_label, changed))
        print(
            f"changed in the course since you copied them: {names}\n"
            f"  `make refresh NB=<lesson>` (or `make refresh` for all) takes the new version; "
            f"yours is kept as a backup beside it"
        )


def _status(ws: Workspace) -> None:
    edited, changed, manifest = set(ws.edited()), set(ws.changed_upstream()), ws.manifest()
    for name in ws.lessons():
        if not (ws.target / name).exists():
            print(f"{_label(name):24} not copied yet (`make lab` copies it)")
            continue
        states = []
        if name in edited:
            states.append("edited by you")
        if name in changed:
            states.append("changed in the course")
        when = manifest.get(name, {}).get("copied")
        print(
            f"{_label(name):24} {', '.join(states) or 'as copied'}"
            + (f" (copied {when})" if when else "")
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m course_utils.workspace",
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("seed", help="copy the lessons you do not have yet (never overwrites)")
    refresh = sub.add_parser("refresh", help="take the course's version again (yours is backed up)")
    refresh.add_argument("lessons", nargs="*", metavar="LESSON", help="default: every lesson")
    sub.add_parser("status", help="which lessons you edited and which changed in the course")
    parser.add_argument("--target", type=Path, help=argparse.SUPPRESS)  # tests: another folder
    parser.add_argument("--source", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    ws = Workspace(args.source or REPO / "notebooks", args.target or REPO / "my-notebooks")
    where = f"{ws.target.name}/"
    try:
        if args.command == "seed":
            copied = ws.seed()
            new = f"; copied now: {' '.join(map(_label, copied))}" if copied else ""
            print(f"{where}: your own copies of the {len(ws.lessons())} lessons{new}")
            _say_changed(ws)
            for name in ws.lessons():
                if message := in_place_message(ws.source / name):
                    print(f"note: {message}")
        elif args.command == "refresh":
            for name, backup in ws.refresh([n for n in args.lessons if n.strip()] or None):
                kept = f" (yours is kept as {backup.name})" if backup else ""
                print(f"{where}{name}: refreshed from the course{kept}")
        else:
            _status(ws)
    except (KeyError, FileNotFoundError) as e:
        print(f"error: {e.args[0] if e.args else e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
