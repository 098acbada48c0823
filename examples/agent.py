#!/usr/bin/env python3
"""examples/agent.py - the sample Python agent of `make demo`.

Runs inside the microVM as the job's program, with the Python of the
image's verified root filesystem: it reads the task file the host uploaded
with it, does the work with the standard library only (a word count kept in
SQLite, a digest, the TLS trust store it would use), checks what the
sandbox allows it, and prints its report as JSON on standard output.
The exit status is 0 when the task was done.
"""

import collections
import hashlib
import json
import os
import platform
import sqlite3
import ssl
import sys


def read_task(path="task.txt"):
    with open(path, encoding="utf-8") as f:
        return f.read()


def count_words(text):
    """Word frequencies, kept in an in-memory SQLite database."""
    words = [w.strip(".,;:!?\"'()").lower() for w in text.split()]
    words = [w for w in words if w]
    db = sqlite3.connect(":memory:")
    db.execute("CREATE TABLE words (word TEXT PRIMARY KEY, n INTEGER NOT NULL)")
    for w in words:
        db.execute(
            "INSERT INTO words VALUES (?, 1) ON CONFLICT(word) DO UPDATE SET n = n + 1",
            (w,),
        )
    top = db.execute("SELECT word, n FROM words ORDER BY n DESC, word LIMIT 5").fetchall()
    db.close()
    return len(words), top


def can_write(path):
    """True when creating a file in the directory `path` succeeds."""
    probe = os.path.join(path, ".agent-was-here")
    try:
        with open(probe, "x", encoding="utf-8") as f:
            f.write("x")
    except OSError:
        return False
    os.unlink(probe)
    return True


def main():
    task = read_task()
    nwords, top = count_words(task)
    ctx = ssl.create_default_context()
    report = {
        "python": platform.python_version(),
        "executable": sys.executable,
        "kernel": platform.release(),
        "uid": os.getuid(),
        "cwd": os.getcwd(),
        "task_sha256": hashlib.sha256(task.encode("utf-8")).hexdigest(),
        "task_words": nwords,
        "top_words": collections.OrderedDict(top),
        "sqlite": sqlite3.sqlite_version,
        "openssl": ssl.OPENSSL_VERSION,
        "ca_certificates": ctx.cert_store_stats().get("x509_ca", 0),
        "writable": {p: can_write(p) for p in ("/usr", "/etc", "/", "/tmp", os.getcwd())},
    }
    json.dump(report, sys.stdout, indent=2)
    sys.stdout.write("\n")
    done = nwords > 0 and not any(report["writable"][p] for p in ("/usr", "/etc", "/"))
    return 0 if done else 1


if __name__ == "__main__":
    sys.exit(main())
