"""The data layer: lookup order, the real download -> verify -> unpack path, and bad input.

Every fixture is written here: tiny archives in the official layouts, served by a real HTTP
server on 127.0.0.1 that the tests start and stop.
"""

from __future__ import annotations

import dataclasses
import hashlib
import http.server
import io
import os
import socket
import threading
import zipfile
from pathlib import Path

import pandas as pd
import pytest

import course_utils.data as cdata
from course_utils.data import DataError, fetch

# ---------------------------------------------------------------------------- fixtures

U_DATA = "1\t1\t5\t881250949\n1\t2\t3\t881250950\n2\t2\t4\t881250951\n"
U_ITEM = (
    "1|Toy Story (1995)|01-Jan-1995||http://x|0|0|0|1|1|1|0|0|0|0|0|0|0|0|0|0|0|0|0\n"
    "2|Misérables, Les (1995)|01-Jan-1995||http://y|0|0|0|0|0|0|0|0|1|0|0|0|0|0|0|0|0|0|0\n"
)
U1_BASE = "1\t1\t5\t881250949\n2\t2\t4\t881250951\n"
U1_TEST = "1\t2\t3\t881250950\n"
TEXT = "PREFACE\n\n\nSUPPOSING that Truth is a woman--what then?"


def sha(b: bytes) -> str:
    return hashlib.sha256(b).hexdigest()


def ml100k_files() -> dict[str, bytes]:
    return {
        "u.data": U_DATA.encode(),
        "u.item": U_ITEM.encode("latin-1"),
        "u1.base": U1_BASE.encode(),
        "u1.test": U1_TEST.encode(),
    }


def make_zip(folder: str, files: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, content in files.items():
            z.writestr(f"{folder}/{name}", content)
    return buf.getvalue()


class Server:
    """A real HTTP server on 127.0.0.1 serving `routes` (path -> bytes).

    A route whose value is a tuple `(bytes, n)` announces the full length but sends only the
    first `n` bytes and then drops the connection: an interrupted download.
    """

    def __init__(self) -> None:
        self.routes: dict[str, bytes | tuple[bytes, int]] = {}
        routes = self.routes

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                body = routes.get(self.path)
                if body is None:
                    self.send_error(404)
                    return
                cut = None
                if isinstance(body, tuple):
                    body, cut = body
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body[:cut] if cut is not None else body)
                if cut is not None:
                    self.wfile.flush()
                    self.connection.shutdown(socket.SHUT_RDWR)

            def log_message(self, *args) -> None:
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server():
    s = Server()
    yield s
    s.close()


@pytest.fixture
def repo_data(tmp_path, monkeypatch) -> Path:
    """An empty stand-in for the repository's data/ folder; COURSE_DATA unset."""
    d = tmp_path / "data"
    d.mkdir()
    monkeypatch.setattr(fetch, "REPO_DATA", d)
    monkeypatch.delenv("COURSE_DATA", raising=False)
    monkeypatch.setenv("COURSE_PROGRESS", "0")
    cdata.forget_verified()
    return d


def register(monkeypatch, name: str, files: dict[str, bytes], url: str, **kw) -> None:
    spec = dataclasses.replace(
        cdata.DATASETS[name], files={k: sha(v) for k, v in files.items()}, download_url=url, **kw
    )
    monkeypatch.setitem(cdata.DATASETS, name, spec)


# ---------------------------------------------------------------------------- download path


def test_download_verify_unpack_then_load(server, repo_data, monkeypatch):
    files = ml100k_files()
    server.routes["/ml-100k.zip"] = make_zip("ml-100k", files)
    register(monkeypatch, "ml-100k", files, server.url + "/ml-100k.zip", archive_hash=None)

    ratings, movies = cdata.load_ml100k()

    assert (repo_data / "ml-100k" / "u.data").read_bytes() == files["u.data"]
    assert not list(repo_data.glob("*.zip")), "the archive is removed after unpacking"
    assert list(ratings.columns) == ["userId", "movieId", "rating", "timestamp"]
    assert str(ratings.dtypes["rating"]) == "float32" and str(ratings.dtypes["userId"]) == "int32"
    assert isinstance(ratings.dtypes["timestamp"], pd.DatetimeTZDtype)
    assert movies.loc[1, "title"] == "Misérables, Les (1995)"  # latin-1 decoded
    assert movies.loc[0, "genres"] == "Animation|Children's|Comedy"
    assert cdata.movie_titles(movies)[2] == "Misérables, Les (1995)"
    train, test = cdata.load_ml100k_split("u1")
    assert len(train) == 2 and len(test) == 1

    # The copy in data/ is used from now on: the server is no longer needed.
    server.close()
    cdata.forget_verified()
    assert cdata.find_dataset("ml-100k") == repo_data / "ml-100k"


def test_single_file_download(server, repo_data, monkeypatch):
    server.routes["/nietzsche.txt"] = TEXT.encode()
    register(
        monkeypatch, "nietzsche", {"nietzsche.txt": TEXT.encode()}, server.url + "/nietzsche.txt"
    )
    assert cdata.load_nietzsche() == TEXT


def test_corrupt_download_is_reported_and_not_kept(server, repo_data, monkeypatch):
    good = ml100k_files()
    bad = dict(good, **{"u.data": b"1\t1\t1\t0\n"})
    server.routes["/ml-100k.zip"] = make_zip("ml-100k", bad)
    register(monkeypatch, "ml-100k", good, server.url + "/ml-100k.zip", archive_hash=None)

    with pytest.raises(DataError) as e:
        cdata.find_dataset("ml-100k")
    msg = str(e.value)
    assert "u.data" in msg and sha(good["u.data"]) in msg and sha(bad["u.data"]) in msg
    assert "download again" in msg
    assert not (repo_data / "ml-100k").exists() and not list(repo_data.iterdir())


def test_single_file_hash_mismatch_not_kept(server, repo_data, monkeypatch):
    server.routes["/nietzsche.txt"] = b"something else entirely"
    register(
        monkeypatch, "nietzsche", {"nietzsche.txt": TEXT.encode()}, server.url + "/nietzsche.txt"
    )
    with pytest.raises(DataError, match="does not match the pinned sha256"):
        cdata.load_nietzsche()
    assert not (repo_data / "nietzsche" / "nietzsche.txt").exists()


def test_interrupted_download_leaves_nothing_that_passes(server, repo_data, monkeypatch):
    files = ml100k_files()
    archive = make_zip("ml-100k", files)
    server.routes["/ml-100k.zip"] = (archive, len(archive) // 2)
    register(monkeypatch, "ml-100k", files, server.url + "/ml-100k.zip", archive_hash=None)

    with pytest.raises(DataError, match="could not be downloaded"):
        cdata.find_dataset("ml-100k")
    leftovers = [p for p in repo_data.rglob("*") if p.is_file()]
    assert leftovers == [], f"an interrupted download left {leftovers}"

    # Once the network is back, the same call succeeds.
    server.routes["/ml-100k.zip"] = archive
    assert cdata.find_dataset("ml-100k") == repo_data / "ml-100k"


def test_damaged_archive(server, repo_data, monkeypatch):
    files = ml100k_files()
    server.routes["/ml-100k.zip"] = b"PK\x03\x04 this is not really a zip file"
    register(monkeypatch, "ml-100k", files, server.url + "/ml-100k.zip", archive_hash=None)
    with pytest.raises(DataError, match="damaged"):
        cdata.find_dataset("ml-100k")
    assert not [p for p in repo_data.rglob("*") if p.is_file()]


def test_offline_error_names_everything(repo_data, monkeypatch, tmp_path):
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"http://127.0.0.1:{port}/ml-latest-small.zip"
    register(monkeypatch, "ml-latest-small", {"ratings.csv": b"x"}, url)
    monkeypatch.setenv("COURSE_DATA", str(tmp_path / "mirror"))
    with pytest.raises(DataError) as e:
        cdata.load_movielens()
    msg = str(e.value)
    assert "'ml-latest-small'" in msg
    assert cdata.DATASETS["ml-latest-small"].urls[0] in msg  # the official source
    assert str(tmp_path / "mirror" / "ml-latest-small") in msg
    assert str(repo_data / "ml-latest-small") in msg
    assert "COURSE_DATA" in msg


def test_unknown_dataset():
    with pytest.raises(DataError, match="Unknown data set 'mnist'"):
        cdata.find_dataset("mnist")


# ---------------------------------------------------------------------------- lookup order


def write_copy(folder: Path, files: dict[str, bytes]) -> Path:
    folder.mkdir(parents=True)
    for name, content in files.items():
        (folder / name).write_bytes(content)
    return folder


def test_lookup_order(repo_data, monkeypatch, tmp_path):
    text = {"nietzsche.txt": TEXT.encode()}
    register(monkeypatch, "nietzsche", text, None)
    local = write_copy(repo_data / "nietzsche", text)
    assert cdata.find_dataset("nietzsche") == local

    mirror = write_copy(tmp_path / "mirror" / "nietzsche", text)
    monkeypatch.setenv("COURSE_DATA", str(tmp_path / "mirror"))
    assert cdata.find_dataset("nietzsche") == mirror  # COURSE_DATA before data/

    explicit = write_copy(tmp_path / "mine", text)  # a path may be the data-set folder itself
    assert cdata.find_dataset("nietzsche", path=explicit) == explicit
    assert cdata.find_dataset("nietzsche", path=tmp_path / "mirror") == mirror  # or a mirror


def test_corrupt_mirror_is_an_error_not_a_fallback(repo_data, monkeypatch, tmp_path):
    text = {"nietzsche.txt": TEXT.encode()}
    register(monkeypatch, "nietzsche", text, None)
    write_copy(repo_data / "nietzsche", text)
    write_copy(tmp_path / "mirror" / "nietzsche", {"nietzsche.txt": b"edited"})
    monkeypatch.setenv("COURSE_DATA", str(tmp_path / "mirror"))
    with pytest.raises(DataError) as e:
        cdata.find_dataset("nietzsche")
    msg = str(e.value)
    assert "nietzsche.txt" in msg and sha(b"edited") in msg and sha(TEXT.encode()) in msg


def test_incomplete_copy(repo_data, monkeypatch):
    files = ml100k_files()
    register(monkeypatch, "ml-100k", files, None)
    write_copy(repo_data / "ml-100k", {"u.data": files["u.data"]})
    with pytest.raises(DataError, match=r"incomplete: missing u\.item"):
        cdata.find_dataset("ml-100k")


def test_missing_column_is_named(repo_data, monkeypatch):
    files = {
        "ratings.csv": b"userId,movieId,score,timestamp\r\n1,1,4.0,964982703\r\n",
        "movies.csv": b"movieId,title,genres\r\n1,Toy Story (1995),Animation\r\n",
    }
    register(monkeypatch, "ml-latest-small", files, None)
    write_copy(repo_data / "ml-latest-small", files)
    with pytest.raises(DataError, match=r"ratings\.csv is missing column\(s\) 'rating'"):
        cdata.load_movielens()


def test_crlf_movielens(repo_data, monkeypatch):
    files = {
        "ratings.csv": b"userId,movieId,rating,timestamp\r\n1,1,4.0,964982703\r\n1,3,4.5,964981247\r\n",
        "movies.csv": b"movieId,title,genres\r\n1,Toy Story (1995),Animation|Comedy\r\n"
        b'3,"American President, The (1995)",Comedy\r\n',
    }
    register(monkeypatch, "ml-latest-small", files, None)
    write_copy(repo_data / "ml-latest-small", files)
    ratings, movies = cdata.load_movielens()
    assert ratings["rating"].tolist() == [4.0, 4.5]
    assert movies["genres"].tolist() == ["Animation|Comedy", "Comedy"]  # no stray '\r'
    assert cdata.movie_titles(movies)[3] == "American President, The (1995)"


def test_cli_lists_datasets(repo_data, monkeypatch, capsys):
    text = {"nietzsche.txt": TEXT.encode()}
    register(monkeypatch, "nietzsche", text, None)
    write_copy(repo_data / "nietzsche", text)
    status = cdata.main([])
    out = capsys.readouterr().out
    assert "nietzsche" in out and str(repo_data / "nietzsche") in out
    assert status == 1  # the other data sets are not in this empty data/


# ---------------------------------------------------------------------------- the real mirror

mirror = pytest.mark.skipif(
    not os.environ.get("COURSE_DATA"),
    reason="set COURSE_DATA to a mirror of the course data to run this",
)


@mirror
def test_real_mirror():
    cdata.forget_verified()
    ratings, movies = cdata.load_movielens()
    assert len(ratings) == 100_836 and ratings.userId.nunique() == 610
    assert ratings.movieId.nunique() == 9_724 and len(movies) == 9_742
    r100, m100 = cdata.load_ml100k()
    assert len(r100) == 100_000 and r100.userId.nunique() == 943 and len(m100) == 1_682
    train, test = cdata.load_ml100k_split("u1")
    assert (len(train), len(test)) == (80_000, 20_000)
    text = cdata.load_nietzsche()
    assert len(text) == 600_893 and text.startswith("PREFACE\n\n\nSUPPOSING that Truth is a woman")
    assert cdata.find_dataset("rossmann").is_dir()
