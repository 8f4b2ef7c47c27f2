"""The download helper against a local HTTP server on 127.0.0.1 (never the internet)."""

import hashlib
import http.server
import io
import tarfile
import threading
import zipfile

import pytest

from dabs_lib.datasets.download import download_url, extract_archive
from dabs_lib.datasets.errors import ChecksumError, DatasetFileError

PAYLOAD = bytes(range(256)) * 400  # 100 KiB


class _Handler(http.server.BaseHTTPRequestHandler):
    ranges_seen: list = []
    honour_range = True

    def do_GET(self):  # noqa: N802 (http.server's name)
        header = self.headers.get("Range")
        type(self).ranges_seen.append(header)
        start = int(header.split("=")[1].rstrip("-")) if header and self.honour_range else 0
        body = PAYLOAD[start:]
        self.send_response(206 if start else 200)
        if start:
            self.send_header("Content-Range", f"bytes {start}-{len(PAYLOAD) - 1}/{len(PAYLOAD)}")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    _Handler.ranges_seen = []
    _Handler.honour_range = True
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/file.bin"
    httpd.shutdown()
    httpd.server_close()


def test_download_with_checksum(tmp_path, server):
    md5 = hashlib.md5(PAYLOAD).hexdigest()
    path = download_url(server, tmp_path / "file.bin", md5=md5, progress=False)
    assert path.read_bytes() == PAYLOAD and not (tmp_path / "file.bin.part").exists()
    download_url(server, path, md5=md5, progress=False)  # present and valid: no request
    assert _Handler.ranges_seen == [None]


def test_resume_uses_a_range_request(tmp_path, server):
    (tmp_path / "file.bin.part").write_bytes(PAYLOAD[:1000])
    sha = hashlib.sha256(PAYLOAD).hexdigest()
    path = download_url(server, tmp_path / "file.bin", sha256=sha, progress=False)
    assert _Handler.ranges_seen == ["bytes=1000-"]
    assert path.read_bytes() == PAYLOAD


def test_server_without_range_support_restarts(tmp_path, server):
    _Handler.honour_range = False
    (tmp_path / "file.bin.part").write_bytes(b"garbage")
    path = download_url(server, tmp_path / "file.bin", progress=False)
    assert path.read_bytes() == PAYLOAD


def test_checksum_mismatch_leaves_no_file(tmp_path, server):
    with pytest.raises(ChecksumError, match="md5 must be 0+"):
        download_url(server, tmp_path / "file.bin", md5="0" * 32, progress=False)
    assert list(tmp_path.iterdir()) == []


def test_extract_zip_and_tar(tmp_path):
    zpath = tmp_path / "a.zip"
    with zipfile.ZipFile(zpath, "w") as handle:
        handle.writestr("top/x.txt", "hello")
    buffer = io.BytesIO(b"world")
    tpath = tmp_path / "b.tar.gz"
    with tarfile.open(tpath, "w:gz") as handle:
        info = tarfile.TarInfo("other/y.txt")
        info.size = 5
        handle.addfile(info, buffer)
    out = tmp_path / "out"
    extract_archive(zpath, out)
    extract_archive(tpath, out)
    assert (out / "top" / "x.txt").read_text() == "hello" and (out / "other" / "y.txt").read_text() == "world"
    assert sorted(p.name for p in out.iterdir()) == ["other", "top"]  # no temporary folder left


def test_extract_refuses_path_traversal_and_garbage(tmp_path):
    zpath = tmp_path / "evil.zip"
    with zipfile.ZipFile(zpath, "w") as handle:
        handle.writestr("../escape.txt", "x")
    with pytest.raises(DatasetFileError, match="outside"):
        extract_archive(zpath, tmp_path / "out")
    junk = tmp_path / "junk.tar.gz"
    junk.write_bytes(b"not an archive")
    with pytest.raises(DatasetFileError, match="junk.tar.gz"):
        extract_archive(junk, tmp_path / "out")
    assert not (tmp_path / "escape.txt").exists()


def test_source_download_fetches_verifies_and_extracts(tmp_path):
    """A Source's archive served from 127.0.0.1: downloaded, md5-checked, extracted, status flips."""
    from dabs_lib.datasets.common import Archive, Source

    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as handle:
        info = tarfile.TarInfo("toy-data/part1.txt")
        info.size = 4
        handle.addfile(info, io.BytesIO(b"data"))
    body = buffer.getvalue()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{httpd.server_address[1]}/toy.tar.gz"
        source = Source(
            "toy", ("toy-data/part1.txt",), "get it into {dir}", (Archive(url, md5=hashlib.md5(body).hexdigest()),)
        )
        assert source.missing(tmp_path) == [tmp_path / "toy" / "toy-data" / "part1.txt"]
        folder = source.download(tmp_path, progress=False)
        assert (folder / "toy-data" / "part1.txt").read_text() == "data" and source.missing(tmp_path) == []
    finally:
        httpd.shutdown()
        httpd.server_close()
