"""Full-content fingerprints of local files: memoised, but never stale after the content changed."""

from __future__ import annotations

import os

from mmeb.fingerprint import folder_fingerprint


def test_a_same_size_rewrite_with_its_old_mtime_restored_is_hashed_again(tmp_path, monkeypatch):
    """A checkpoint rewritten in place by a tool that keeps the old mtime (cp -p, rsync -t, tar, an explicit
    utime) has the same size and mtime: the memo must still notice (the change time cannot be set back)."""
    monkeypatch.setenv("MMEB_CACHE_HOME", str(tmp_path / "home"))
    folder = tmp_path / "checkpoint"
    folder.mkdir()
    weights = folder / "model.safetensors"
    weights.write_bytes(b"\x01" * 4096)
    before = folder_fingerprint(folder)
    stat = weights.stat()
    with weights.open("r+b") as handle:  # same size, same inode, other bytes
        handle.write(b"\x02" * 4096)
    os.utime(weights, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert weights.stat().st_size == stat.st_size and weights.stat().st_mtime_ns == stat.st_mtime_ns
    assert folder_fingerprint(folder) != before
    assert folder_fingerprint(folder) == folder_fingerprint(folder)  # and memoised again


def test_an_unchanged_file_is_not_read_again(tmp_path, monkeypatch):
    from mmeb import fingerprint

    monkeypatch.setenv("MMEB_CACHE_HOME", str(tmp_path / "home"))
    folder = tmp_path / "checkpoint"
    folder.mkdir()
    (folder / "w.bin").write_bytes(b"x" * 100)
    first = fingerprint.folder_fingerprint(folder)
    reads = []
    monkeypatch.setattr(fingerprint, "_digest_file", lambda path: reads.append(path) or "never")
    assert fingerprint.folder_fingerprint(folder) == first and reads == []
