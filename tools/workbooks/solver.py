"""Run LibreOffice's Solver on the exercise of `excel/collab_filter.xlsx`, headless.

    python -m tools.workbooks.solver [--sheet dotprod] [--seconds 60] [WORKBOOK]

does what the instructions on the sheet ask a student to do in LibreOffice (Tools > Solver:
minimise block B's RMSE by changing its yellow factors, each <= SOLVER_BOUND and
non-negative, with the Swarm non-linear solver) and prints the RMSE before and after. The Solver has no
command line, so a small LibreOffice Basic macro, installed in a throwaway profile, calls
its UNO service; `tests/test_collab_solver.py` uses this to check that the instructions work.
"""

from __future__ import annotations

import argparse
import html
import os
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from tools.workbooks.collab_filter import SOLVER_BOUND
from tools.workbooks.common import INSTALL_HINT, LibreOfficeMissing, find_soffice

__all__ = ["SolverResult", "run_solver"]

SWARM = "com.sun.star.comp.Calc.SwarmSolver"

# The macro reads its arguments from environment variables (a macro URL cannot carry paths).
MACRO = """
Function RangeOf(doc, sName As String)
    RangeOf = doc.NamedRanges.getByName(sName).getReferredCells().getRangeAddress()
End Function

Sub Main
    Dim oArgs(0) As New com.sun.star.beans.PropertyValue
    oArgs(0).Name = "Hidden" : oArgs(0).Value = True
    doc = StarDesktop.loadComponentFromURL(ConvertToURL(Environ("SOLVER_IN")), "_blank", 0, oArgs())
    doc.calculateAll()
    obj = RangeOf(doc, Environ("SOLVER_OBJECTIVE"))
    Dim oObj As New com.sun.star.table.CellAddress
    oObj.Sheet = obj.Sheet : oObj.Column = obj.StartColumn : oObj.Row = obj.StartRow
    oCell = doc.Sheets.getByIndex(obj.Sheet).getCellByPosition(obj.StartColumn, obj.StartRow)
    fStart = oCell.getValue()
    aNames = Split(Environ("SOLVER_VARIABLES"), ";")
    n = 0
    For Each sName In aNames
        r = RangeOf(doc, sName)
        n = n + (r.EndColumn - r.StartColumn + 1) * (r.EndRow - r.StartRow + 1)
    Next
    Dim aVars(n - 1) As New com.sun.star.table.CellAddress
    Dim aCons(n - 1) As New com.sun.star.sheet.SolverConstraint
    fBound = CDbl(Environ("SOLVER_BOUND"))
    i = 0
    For Each sName In aNames
        r = RangeOf(doc, sName)
        For c = r.StartColumn To r.EndColumn
            For rr = r.StartRow To r.EndRow
                aVars(i).Sheet = r.Sheet : aVars(i).Column = c : aVars(i).Row = rr
                aCons(i).Left = aVars(i)
                aCons(i).Operator = com.sun.star.sheet.SolverConstraintOperator.LESS_EQUAL
                aCons(i).Right = fBound
                i = i + 1
            Next
        Next
    Next
    solver = createUnoService(Environ("SOLVER_ENGINE"))
    solver.Document = doc
    solver.Objective = oObj
    solver.Variables = aVars()
    solver.Constraints = aCons()
    solver.Maximize = False
    solver.setPropertyValue("NonNegative", True)
    solver.setPropertyValue("Timeout", CLng(Environ("SOLVER_TIMEOUT_MS")))
    solver.solve()
    aSol = solver.Solution
    For i = 0 To UBound(aSol)
        doc.Sheets.getByIndex(aVars(i).Sheet).getCellByPosition(aVars(i).Column, aVars(i).Row).setValue(aSol(i))
    Next
    doc.calculateAll()
    iFile = FreeFile
    Open Environ("SOLVER_OUT") For Output As #iFile
    Print #iFile, "success=" & CInt(solver.Success)
    Print #iFile, "variables=" & n
    Print #iFile, "start=" & Str(fStart)
    Print #iFile, "end=" & Str(oCell.getValue())
    Close #iFile
    doc.close(True)
    StarDesktop.terminate()
End Sub
"""

_XLC = """<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE library:libraries PUBLIC "-//OpenOffice.org//DTD OfficeDocument 1.0//EN" "libraries.dtd">
<library:libraries xmlns:library="http://openoffice.org/2000/library" xmlns:xlink="http://www.w3.org/1999/xlink">
 <library:library library:name="Standard" xlink:href="$(USER)/basic/Standard/{kind}.xlb/" xlink:type="simple" library:link="false"/>
</library:libraries>
"""
_XLB = """<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE library:library PUBLIC "-//OpenOffice.org//DTD OfficeDocument 1.0//EN" "library.dtd">
<library:library xmlns:library="http://openoffice.org/2000/library" library:name="Standard" library:readonly="false" library:passwordprotected="false">{elements}</library:library>
"""
_XBA = """<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE script:module PUBLIC "-//OpenOffice.org//DTD OfficeDocument 1.0//EN" "module.dtd">
<script:module xmlns:script="http://openoffice.org/2000/script" script:name="Solve" script:language="StarBasic">{code}</script:module>
"""


@dataclass
class SolverResult:
    """The objective (RMSE) before and after the Solver, and how many cells it changed."""

    start: float
    end: float
    variables: int
    success: bool


def _install_macro(soffice: str, profile: Path, env: dict[str, str]) -> str:
    """Create a LibreOffice profile holding the macro; returns its -env argument."""
    arg = f"-env:UserInstallation={profile.resolve().as_uri()}"
    # the first start writes the default profile; the macro library is replaced afterwards
    subprocess.run(
        [soffice, arg, "--headless", "--norestore", "--terminate_after_init"],
        capture_output=True,
        timeout=300,
        env=env,
        check=False,
    )
    basic = profile / "user" / "basic"
    (basic / "Standard").mkdir(parents=True, exist_ok=True)
    for kind in ("script", "dialog"):
        (basic / f"{kind}.xlc").write_text(_XLC.format(kind=kind))
    (basic / "Standard" / "script.xlb").write_text(
        _XLB.format(elements='\n <library:element library:name="Solve"/>\n')
    )
    (basic / "Standard" / "dialog.xlb").write_text(_XLB.format(elements=""))
    (basic / "Standard" / "Solve.xba").write_text(_XBA.format(code=html.escape(MACRO, quote=False)))
    return arg


def run_solver(
    workbook: Path,
    sheet: str = "dotprod",
    seconds: float = 60,
    bound: float = SOLVER_BOUND,
    engine: str = SWARM,
    timeout: float | None = None,
) -> SolverResult:
    """Minimise `<sheet>_random_rmse` by changing block B's factors, each in [0, bound], with
    LibreOffice's `engine` for `seconds`; the workbook file itself is not changed."""
    soffice = find_soffice()
    if soffice is None:
        raise LibreOfficeMissing(f"Running the Solver needs LibreOffice: {INSTALL_HINT}.")
    with tempfile.TemporaryDirectory(prefix="solver-") as tmp:
        tmp = Path(tmp)
        copy = tmp / Path(workbook).name
        copy.write_bytes(Path(workbook).read_bytes())
        out = tmp / "result.txt"
        env = {
            **os.environ,
            "SAL_ENABLE_FILE_LOCKING": "0",
            "SOLVER_IN": str(copy),
            "SOLVER_OUT": str(out),
            "SOLVER_OBJECTIVE": f"{sheet}_random_rmse",
            "SOLVER_VARIABLES": f"{sheet}_random_user_factors;{sheet}_random_movie_factors",
            "SOLVER_BOUND": repr(float(bound)),
            "SOLVER_ENGINE": engine,
            "SOLVER_TIMEOUT_MS": str(int(seconds * 1000)),
        }
        arg = _install_macro(soffice, tmp / "profile", env)
        res = subprocess.run(
            [soffice, arg, "--headless", "--norestore", "macro:///Standard.Solve.Main"],
            capture_output=True,
            text=True,
            env=env,
            timeout=timeout or seconds * 3 + 300,
            check=False,
        )
        if not out.exists():
            raise RuntimeError(
                f"The Solver macro wrote no result (exit code {res.returncode}):"
                f"\n{res.stdout}\n{res.stderr}"
            )
        values = dict(line.split("=", 1) for line in out.read_text().splitlines() if "=" in line)
    return SolverResult(
        float(values["start"]),
        float(values["end"]),
        int(values["variables"]),
        values["success"] != "0",
    )


def main(argv: list[str] | None = None) -> int:
    from tools.workbooks.__main__ import EXCEL

    parser = argparse.ArgumentParser(
        prog="python -m tools.workbooks.solver",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("workbook", nargs="?", type=Path, default=EXCEL / "collab_filter.xlsx")
    parser.add_argument("--sheet", default="dotprod", choices=["dotprod", "bias"])
    parser.add_argument("--seconds", type=float, default=60, help="the Solver's time limit")
    parser.add_argument("--bound", type=float, default=SOLVER_BOUND)
    args = parser.parse_args(argv)
    r = run_solver(args.workbook, args.sheet, args.seconds, args.bound)
    print(
        f"{args.sheet}: RMSE {r.start:.4f} -> {r.end:.4f} ({r.variables} cells, "
        f"{args.seconds:g} s, each in [0, {args.bound:g}])"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
