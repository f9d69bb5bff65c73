"""age, written and read here: Debian's `age` and pyrage open what Encryptor writes, and
Decryptor opens what they write; a changed byte, a cut at a chunk boundary, bytes added at
the end or another key are all refused."""

from __future__ import annotations

import io
import os
import subprocess

import pyrage
import pytest

from fallback.vault import agefile
from fallback.vault.agefile import CHUNK, AgeError, Decryptor, Encryptor


def encrypt(data: bytes, recipients: list[str], pieces: int = 7) -> bytes:
    out = io.BytesIO()
    writer = Encryptor(out, recipients)
    step = max(1, len(data) // pieces)
    for start in range(0, len(data), step):
        writer.write(data[start : start + step])
    writer.close()
    return out.getvalue()


def decrypt(sealed: bytes, identities) -> bytes:
    reader = Decryptor(io.BytesIO(sealed), [agefile.identity_key(str(i)) for i in identities])
    parts = []
    while chunk := reader.read(50_000):
        parts.append(chunk)
    return b"".join(parts)


@pytest.mark.parametrize("size", [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 3 * CHUNK, 200_000])
def test_pyrage_opens_what_is_written_here_and_the_other_way_round(size):
    key = pyrage.x25519.Identity.generate()
    data = os.urandom(size)
    assert pyrage.decrypt(encrypt(data, [str(key.to_public())]), [key]) == data
    assert decrypt(pyrage.encrypt(data, [key.to_public()]), [key]) == data


@pytest.mark.parametrize("piece", [1, 1000, CHUNK - 1, CHUNK, CHUNK + 1, 3 * CHUNK + 7])
def test_however_the_plaintext_is_cut_into_writes_the_same_plaintext_comes_back(piece):
    """Writes of any size, bytes or views of a buffer reused between writes, seal the same
    stream: chunks across write boundaries, and a last chunk held back until close()."""
    key = pyrage.x25519.Identity.generate()
    data = os.urandom(4 * CHUNK + 3)
    out = io.BytesIO()
    writer = Encryptor(out, [str(key.to_public())])
    reused = bytearray(piece)
    for start in range(0, len(data), piece):
        part = data[start : start + piece]
        reused[: len(part)] = part
        assert writer.write(memoryview(reused)[: len(part)]) == len(part)
    writer.close()
    assert pyrage.decrypt(out.getvalue(), [key]) == data
    assert decrypt(out.getvalue(), [key]) == data


def test_debian_age_opens_it_for_each_recipient(tmp_path):
    keys = [pyrage.x25519.Identity.generate() for _ in range(2)]
    data = os.urandom(300_000)
    sealed = tmp_path / "file.age"
    sealed.write_bytes(encrypt(data, [str(k.to_public()) for k in keys]))
    for n, key in enumerate(keys):
        (tmp_path / f"key{n}.txt").write_text(f"{key}\n")
        opened = subprocess.run(
            ["/usr/bin/age", "-d", "-i", str(tmp_path / f"key{n}.txt"), str(sealed)],
            capture_output=True,
            check=True,
        ).stdout
        assert opened == data


def test_what_debian_age_writes_is_read_here(tmp_path):
    key = pyrage.x25519.Identity.generate()
    data = os.urandom(CHUNK * 2 + 5)
    sealed = subprocess.run(
        ["/usr/bin/age", "-r", str(key.to_public())], input=data, capture_output=True, check=True
    ).stdout
    assert decrypt(sealed, [key]) == data


def test_damage_anywhere_is_refused():
    key = pyrage.x25519.Identity.generate()
    sealed = encrypt(os.urandom(3 * CHUNK + 100), [str(key.to_public())])
    header_end = sealed.index(b"\n---") + 50
    for where in (40, header_end + 30, len(sealed) // 2, len(sealed) - 1):
        damaged = bytearray(sealed)
        damaged[where] ^= 0x01
        with pytest.raises(AgeError):
            decrypt(bytes(damaged), [key])


def test_a_cut_at_a_chunk_boundary_or_bytes_added_are_refused():
    key = pyrage.x25519.Identity.generate()
    sealed = encrypt(os.urandom(3 * CHUNK + 100), [str(key.to_public())])
    last = len(sealed) - (100 + 16)  # the last (short) chunk starts here
    with pytest.raises(AgeError, match="damaged or truncated"):
        decrypt(sealed[:last], [key])
    with pytest.raises(AgeError, match="damaged or truncated"):
        decrypt(sealed + b"x", [key])


def test_another_key_is_told_so():
    sealed = encrypt(b"hello", [str(pyrage.x25519.Identity.generate().to_public())])
    with pytest.raises(AgeError, match="encrypted to other keys"):
        decrypt(sealed, [pyrage.x25519.Identity.generate()])


def test_keys_are_checked():
    with pytest.raises(AgeError, match="not an age public key"):
        agefile.recipient_bytes("age1qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqq")
    with pytest.raises(AgeError, match="not an age private key"):
        agefile.identity_key("AGE-SECRET-KEY-1NOTAKEY")
    with pytest.raises(AgeError, match="not an age file"):
        Decryptor(io.BytesIO(b"PK\x03\x04 a zip file"), [])
