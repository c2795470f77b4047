"""Pictures of the workbooks for the README: `python -m tools.workbooks.screenshots`.

Renders the first screen of a few sheets headless: the builder's workbook with one print
area per chosen sheet (gridlines and row/column headings on, as on screen) goes through
LibreOffice to PDF, one page per sheet, and `pdftoppm` (poppler-utils) turns each page into
`docs/images/workbook-<name>.png`, trimmed of its white margin.
"""

from __future__ import annotations

import argparse
import importlib
import shutil
import subprocess
import tempfile
from pathlib import Path

from PIL import Image, ImageChops

from course_utils.data import atomic_write
from tools.workbooks.common import INSTALL_HINT, find_soffice, profile

IMAGES = Path(__file__).resolve().parents[2] / "docs" / "images"

# module -> [(sheet, print area, image name)]
SHOTS = {
    "tools.workbooks.graddesc": [
        ("compare", "A1:J37", "workbook-graddesc-compare.png"),
        ("basic SGD", "A1:O30", "workbook-graddesc-sgd.png"),
    ],
    "tools.workbooks.collab_filter": [("dotprod", "A1:V36", "workbook-collab-dotprod.png")],
}


def _trim(png: Path) -> None:
    """Cut the white page margin off an image, keeping a few pixels."""
    im = Image.open(png).convert("RGB")
    box = ImageChops.difference(im, Image.new("RGB", im.size, "white")).getbbox()
    if box:
        pad = 6
        box = (
            max(box[0] - pad, 0),
            max(box[1] - pad, 0),
            min(box[2] + pad, im.width),
            min(box[3] + pad, im.height),
        )
        im.crop(box).save(png, optimize=True)


def render(module: str, shots: list[tuple[str, str, str]], out: Path, dpi: int = 110) -> list[Path]:
    """Write the images of one workbook's `shots` into `out`; returns their paths."""
    soffice, pdftoppm = find_soffice(), shutil.which("pdftoppm")
    if soffice is None or pdftoppm is None:
        raise SystemExit(
            f"Screenshots need LibreOffice and pdftoppm: {INSTALL_HINT}, and "
            "poppler-utils for pdftoppm."
        )
    wb = importlib.import_module(module).workbook()
    wanted = {sheet: (area, name) for sheet, area, name in shots}
    for ws in wb.worksheets:
        if ws.title not in wanted:
            ws.sheet_state = "hidden"  # hidden sheets are not printed
            continue
        ws.print_area = wanted[ws.title][0]
        ws.page_setup.orientation = "landscape"
        ws.sheet_properties.pageSetUpPr.fitToPage = True
        ws.page_setup.fitToWidth = ws.page_setup.fitToHeight = 1
        ws.print_options.gridLines = ws.print_options.headings = True
    wb.active = next(i for i, ws in enumerate(wb.worksheets) if ws.title in wanted)
    written = []
    with tempfile.TemporaryDirectory() as tmp:
        xlsx = Path(tmp) / "shots.xlsx"
        wb.save(xlsx)
        subprocess.run(
            [
                soffice,
                profile(Path(tmp) / "lo"),
                "--headless",
                "--norestore",
                "--convert-to",
                "pdf",
                "--outdir",
                tmp,
                str(xlsx),
            ],
            check=True,
            capture_output=True,
            timeout=600,
        )
        subprocess.run(
            [
                pdftoppm,
                "-r",
                str(dpi),
                "-png",
                str(Path(tmp) / "shots.pdf"),
                str(Path(tmp) / "page"),
            ],
            check=True,
            timeout=300,
        )
        pages = sorted(Path(tmp).glob("page-*.png"))
        order = [ws.title for ws in wb.worksheets if ws.title in wanted]
        if len(pages) != len(order):
            raise RuntimeError(f"expected {len(order)} pages (one per sheet), got {len(pages)}")
        out.mkdir(parents=True, exist_ok=True)
        for page, sheet in zip(pages, order, strict=True):
            _trim(page)
            target = out / wanted[sheet][1]
            with atomic_write(target) as tmp:
                shutil.copyfile(page, tmp)
            written.append(target)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tools.workbooks.screenshots", description=__doc__
    )
    parser.add_argument("--out", type=Path, default=IMAGES, help="folder for the PNG files")
    args = parser.parse_args(argv)
    for module, shots in SHOTS.items():
        for path in render(module, shots, args.out):
            print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
