"""How fast is a snapshot of a 1 GB installation, against the `tar | zstd | age` command-line
pipeline on the same data in the same run? How fast is a restore? At what memory?

Target (issue 8): snapshot speed at least 0.8 of the pipeline's (ratio_vs_cli = cli_s ÷
snapshot_s >= 0.8), peak memory of the snapshot under 300 MB (streamed, never the whole
snapshot in memory).

What it does, in a temporary folder:
  1. a data folder with a SQLite database of about 300 MB of replica-like records (raw
     inserts of replica_record rows, as syncs leave them), and about 700 MB of files in a
     file set: half compressible (CSV exports, text), half incompressible (random bytes, like
     the already-compressed company files and PDFs);
  2. a key pair and a local folder destination on the same disk;
  3. `fallback`'s snapshot, in a child process (its own peak RSS: resource.getrusage), timed
     around `vault.snapshots.take()` only (not Python's start-up);
  4. the pipeline on the same database file and files, at zstd's default level (3) on both
     sides: `tar -cf - … | zstd -q | age -r KEY > out` (zstd's command line compresses with
     one thread by default; Fallback's stream writer uses all cores);
  5. `fallback`'s restore of that snapshot into an empty folder, in a child process, timed
     around `vault.restore.restore()` (decrypt, check every hash, open the database).

Usage: .venv/bin/python bench/vault.py [--db-mb 300] [--files-mb 700]
The last line is one JSON object: snapshot_s, cli_s, ratio_vs_cli, restore_s, rss_mb, and
the CPU seconds each side used (snapshot_cpu_s: the snapshot's process while it took it;
cli_cpu_s: tar, zstd and age together), which a busy machine disturbs less than the times.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

MB = 1024 * 1024


def _django(home: Path) -> None:
    os.environ["FALLBACK_HOME"] = str(home)
    os.environ.pop("DATABASE_URL", None)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fallback.settings")
    import django

    django.setup()


def make_database(home: Path, megabytes: int) -> int:
    """Migrate, then fill replica_record with about `megabytes` of customer-like rows."""
    from django.core.management import call_command

    from fallback.accounts.membership import create_organisation
    from fallback.replica.models import Connector

    call_command("migrate", interactive=False, verbosity=0)
    org = create_organisation("Bench Trading")
    connector = Connector.objects.create(org=org, name="Shop", slug="shop", kind="files")
    from django.db import connections

    connections.close_all()
    db = sqlite3.connect(home / "fallback.sqlite3")
    rng = random.Random(8)  # noqa: S311  (test data, not secrets)
    words = ["plumbing", "heating", "supplies", "trading", "services", "holdings", "north"]
    rows = 0
    target = megabytes * MB
    batch = []
    while True:
        n = rows
        data = {
            "name": f"Customer {n} {rng.choice(words).title()} Ltd",
            "email": f"accounts{n}@customer{n % 977}.example",
            "phone": f"+44 113 {rng.randrange(10**6, 10**7)}",
            "address": f"{rng.randrange(1, 300)} {rng.choice(words).title()} Road, Leeds",
            "notes": " ".join(rng.choice(words) for _ in range(60)),
            "balance": f"{rng.randrange(0, 10**6) / 100:.2f}",
        }
        batch.append(
            (
                org.pk,
                connector.pk,
                "customers",
                "customer",
                f"C{n}",
                data["name"],
                json.dumps(data),
                f"{n:032x}",
                "2026-01-01 00:00:00",
                "",
            )
        )
        rows += 1
        if len(batch) == 5000:
            db.executemany(
                "INSERT INTO replica_record (org_id, connector_id, stream, entity, key, name, "
                "data, digest, valid_from, ended) VALUES (?,?,?,?,?,?,?,?,?,?)",
                batch,
            )
            db.commit()
            batch = []
            if (home / "fallback.sqlite3").stat().st_size >= target:
                break
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    return rows


def make_files(folder: Path, megabytes: int) -> None:
    """Half compressible (CSV and text), half incompressible (random), in 10 MB files."""
    folder.mkdir(parents=True)
    rng = random.Random(9)  # noqa: S311  (test data, not secrets)
    each = 10 * MB
    for n in range(megabytes // 20):
        lines = []
        size = 0
        while size < each:
            sku, product = rng.randrange(10**6), rng.randrange(10**4)
            line = f"{sku},Product {product},{rng.random():.4f},in stock\n"
            lines.append(line)
            size += len(line)
        (folder / f"export-{n:03d}.csv").write_text("".join(lines))
        (folder / f"scan-{n:03d}.pdf").write_bytes(os.urandom(each))


def setup_vault(home: Path, files: Path, destination: Path) -> str:
    """A key (kept in home/../key.txt), the destination folder and the file set."""
    import pyrage

    from fallback.vault import editing
    from fallback.vault.models import Kind, Recipient

    key = pyrage.x25519.Identity.generate()
    Recipient.objects.create(label="Bench", public_key=str(key.to_public()))
    (home.parent / "key.txt").write_text(str(key) + "\n")
    destination.mkdir()
    editing.save_destination(None, name="disk", kind=Kind.LOCAL, path=str(destination))
    editing.save_file_set(None, name="office", paths=[str(files)])
    return str(key.to_public())


def child_snapshot(home: Path) -> None:
    _django(home)
    from fallback.vault import snapshots

    start, cpu = time.perf_counter(), time.process_time()
    done = snapshots.take("bench")
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        json.dumps(
            {
                "seconds": seconds,
                "cpu_s": cpu,
                "rss_mb": peak,
                "status": done.status,
                "error": done.error,
                "size": done.size,
                "data_size": done.data_size,
                "name": done.name,
            }
        )
    )


def child_restore(home: Path, source: Path, target: Path) -> None:
    _django(home)
    from fallback.vault import restore
    from fallback.vault.archive import parse_identities

    identities = parse_identities((home.parent / "key.txt").read_text())
    candidate = restore.choose(restore.parse_time("now"), [restore.store_for(str(source))])
    start = time.perf_counter()
    done = restore.restore(candidate, target, identities)
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": seconds, "rss_mb": peak, "files": done.files}))


def _children_cpu() -> float:
    """CPU seconds (user and system) of the child processes waited for so far."""
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


def _child(*args: str) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, __file__, *args], capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise SystemExit(done.stderr)
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db-mb", type=int, default=300)
    parser.add_argument("--files-mb", type=int, default=700)
    parser.add_argument("--child", nargs="+")
    args = parser.parse_args()
    if args.child:
        if args.child[0] == "snapshot":
            child_snapshot(Path(args.child[1]))
        else:
            child_restore(Path(args.child[1]), Path(args.child[2]), Path(args.child[3]))
        return

    with tempfile.TemporaryDirectory(prefix="fallback-bench-vault-") as tmp:
        root = Path(tmp)
        home, files, destination = root / "home", root / "files", root / "disk"
        home.mkdir()
        clock = time.perf_counter()
        _django(home)
        rows = make_database(home, args.db_mb)
        make_files(files, args.files_mb)
        public = setup_vault(home, files, destination)
        from django.db import connections

        connections.close_all()
        db_size = (home / "fallback.sqlite3").stat().st_size
        files_size = sum(p.stat().st_size for p in files.iterdir())
        print(
            f"data set: database {db_size / MB:,.0f} MB ({rows:,} records), files "
            f"{files_size / MB:,.0f} MB; made in {time.perf_counter() - clock:.0f} s",
            flush=True,
        )

        snap = _child("--child", "snapshot", str(home))
        if snap["status"] != "done":
            raise SystemExit(f"snapshot failed: {snap['error']}")
        snapshot_s = float(snap["seconds"])  # type: ignore[arg-type]
        snapshot_cpu = float(snap["cpu_s"])  # type: ignore[arg-type]
        print(
            f"fallback snapshot: {snapshot_s:.2f} s ({snapshot_cpu:.2f} s of CPU), "
            f"{float(snap['size']) / MB:,.0f} MB "  # type: ignore[arg-type]
            f"written, peak RSS {float(snap['rss_mb']):.0f} MB",  # type: ignore[arg-type]
            flush=True,
        )

        out = root / "cli.tar.zst.age"
        pipeline = (
            f"tar -cf - -C {home} fallback.sqlite3 -C {root} files | zstd -q | "
            f"age -r {public} > {out}"
        )
        start, cpu = time.perf_counter(), _children_cpu()
        subprocess.run(["bash", "-o", "pipefail", "-c", pipeline], check=True)
        cli_s, cli_cpu = time.perf_counter() - start, _children_cpu() - cpu
        print(
            f"tar | zstd | age: {cli_s:.2f} s ({cli_cpu:.2f} s of CPU), "
            f"{out.stat().st_size / MB:,.0f} MB",
            flush=True,
        )
        out.unlink()

        restored = _child("--child", "restore", str(home), str(destination), str(root / "back"))
        restore_s = float(restored["seconds"])  # type: ignore[arg-type]
        print(
            f"fallback restore: {restore_s:.2f} s ({restored['files']} files checked), "
            f"peak RSS {float(restored['rss_mb']):.0f} MB",  # type: ignore[arg-type]
            flush=True,
        )
        shutil.rmtree(root / "back", ignore_errors=True)
        print(
            json.dumps(
                {
                    "snapshot_s": round(snapshot_s, 2),
                    "cli_s": round(cli_s, 2),
                    "ratio_vs_cli": round(cli_s / snapshot_s, 2),
                    "restore_s": round(restore_s, 2),
                    "rss_mb": round(float(snap["rss_mb"]), 1),  # type: ignore[arg-type]
                    "snapshot_cpu_s": round(snapshot_cpu, 2),
                    "cli_cpu_s": round(cli_cpu, 2),
                }
            )
        )


if __name__ == "__main__":
    main()
