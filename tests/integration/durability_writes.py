"""The write side of the kill -9 durability test (durability_test.py): small CSV files, the
client-side log of every write attempted and acknowledged, and the writer threads that drive the
real `mlprod` CLI against the real server until the test kills it.

A write is ACKNOWLEDGED when its CLI process exited 0 and printed its JSON document before the
server was killed; only those are promised to survive. Everything else ("in flight") may or may
not have landed, all or nothing. Python 3 standard library only.
"""

import csv
import hashlib
import json
import os
import random
import signal
import subprocess
import threading
import time

import harness

DATASET_NAMES = ("d0", "d1", "d2")
MODEL_NAMES = ("m0", "m1")
ALIASES = ("production", "staging")
# "big": enough rows that some fits are still RUNNING, not only QUEUED, when the kill comes.
BIG_DATASET = "big"
# One signature (x, g) for every version, so predict takes the same row everywhere; the gate
# still refuses an unforced promote of a version with a worse test RMSE.
FORMULAS = ("y ~ x + g", "y ~ x + I(x^2) + g")
BIG_FORMULA = "y ~ poly(x, 3) * g"

# Codes a live server may answer to a write of this mix: a lost compare-and-swap, a refused gate
# or nothing to roll back, an alias that is not set yet. Anything else before the kill (INTERNAL,
# UNAVAILABLE, "database is locked") fails the test.
EXPECTED_REFUSALS = {"ABORTED", "FAILED_PRECONDITION", "NOT_FOUND"}


def write_small_csv(path, seed, rows):
    """y = 1 + 2 x + 3 [g == b] + noise, with columns y, x, g. With 60 rows or more every level
    of g lands in a training split, so a fit on it never fails."""
    rng = random.Random(seed)
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["y", "x", "g"])
        for _ in range(rows):
            x = rng.uniform(0, 10)
            g = rng.choice("abc")
            w.writerow(["%.6f" % (1 + 2 * x + (3 if g == "b" else 0) + rng.gauss(0, 1)),
                        "%.6f" % x, g])


def file_facts(path):
    """(sha256 hex, data rows) of a CSV file, as the server must record them."""
    with open(path, "rb") as f:
        data = f.read()
    return hashlib.sha256(data).hexdigest(), data.count(b"\n") - 1


class Write:
    """One attempted write: what was asked, when, and what came back."""

    def __init__(self, kind, argv, cycle, tag, request):
        self.kind = kind          # upload | submit | register | promote | rollback | token
        self.argv = argv          # CLI arguments after the global flags
        self.cycle = cycle
        self.tag = tag            # unique; the reason of a promote/rollback, the name of a token
        self.request = request    # what the write asked for (dict)
        self.sent = None          # time.monotonic() before the process started
        self.done = None          # ... and after it ended
        self.acked = False
        self.code = None          # OK or the error code on stderr; "KILLED" if we ended it
        self.result = None        # the JSON document of an acknowledged write
        self.stderr = ""

    def __repr__(self):
        return "%s %s (cycle %d, %s) -> %s %s" % (self.kind, self.argv, self.cycle, self.tag,
                                                 self.code, self.result if self.acked else self.stderr[:300])


class Knowledge:
    """What the writers may refer to: dataset names that exist, SUCCEEDED runs, model versions.
    Refreshed from the registry at each restart and extended by acknowledged writes. Only picks
    operands; the verdict never depends on it. Thread-safe."""

    def __init__(self):
        self.lock = threading.Lock()
        self.datasets = set()
        self.succeeded_runs = []
        self.versions = {m: 0 for m in MODEL_NAMES}  # highest version known per model

    def refresh(self, snapshot):
        with self.lock:
            self.datasets = {name for (name, _) in snapshot.datasets}
            self.succeeded_runs = sorted(seq for seq, r in snapshot.runs.items()
                                         if r["status"] == "SUCCEEDED")
            for m in MODEL_NAMES:
                self.versions[m] = max([v for (mm, v) in snapshot.versions if mm == m] or [0])

    def note(self, w):
        with self.lock:
            if w.kind == "upload":
                self.datasets.add(w.result["name"])
            elif w.kind == "register":
                m = w.result["name"]
                self.versions[m] = max(self.versions[m], w.result["version"])


class WriteMix:
    """Chooses the next write of a writer."""

    WEIGHTS = (("upload", 20), ("submit", 30), ("register", 15), ("promote", 22),
               ("rollback", 10), ("token", 3))

    def __init__(self, work_dir, files, knowledge):
        self.work_dir = work_dir
        self.files = files  # [(path, sha256, rows)]
        self.knowledge = knowledge

    def next(self, rng, cycle, tag):
        k = self.knowledge
        with k.lock:
            datasets = sorted(k.datasets)
            runs = list(k.succeeded_runs)
            models = [m for m in MODEL_NAMES if k.versions[m] > 0]
            versions = dict(k.versions)
        kinds = [(kind, weight) for kind, weight in self.WEIGHTS
                 if (kind != "submit" or datasets) and (kind != "register" or runs)
                 and (kind not in ("promote", "rollback") or models)]
        kind = rng.choices([kd for kd, _ in kinds], [wt for _, wt in kinds])[0]
        if kind == "upload":
            # New bytes (a new version) or one of a few files (often a version already there).
            if rng.random() < 0.4:
                path = os.path.join(self.work_dir, "%s.csv" % tag)
                write_small_csv(path, rng.random(), rng.randint(60, 120))
                sha, rows = file_facts(path)
            else:
                path, sha, rows = rng.choice(self.files)
            name = rng.choice(DATASET_NAMES)
            return Write(kind, ["datasets", "upload", path, "--name", name], cycle, tag,
                         {"name": name, "sha256": sha, "rows": rows, "path": path})
        if kind == "submit":
            name = rng.choice(datasets)
            formula = BIG_FORMULA if name == BIG_DATASET else rng.choice(FORMULAS)
            seed = rng.randrange(1, 4)
            return Write(kind, ["runs", "submit", "--dataset", name, "--formula", formula,
                                "--test-fraction", "0.25", "--seed", str(seed)], cycle, tag,
                         {"dataset": name, "formula": formula, "seed": seed})
        if kind == "register":
            model, seq = rng.choice(MODEL_NAMES), rng.choice(runs)
            return Write(kind, ["models", "register", model, "--run", "r%d" % seq], cycle, tag,
                         {"model": model, "run_seq": seq})
        if kind == "promote":
            model, alias = rng.choice(models), rng.choice(ALIASES)
            version = rng.randint(1, versions[model])
            force = rng.random() < 0.7
            argv = ["models", "promote", model, str(version), "--alias", alias, "--reason", tag]
            return Write(kind, argv + (["--force"] if force else []), cycle, tag,
                         {"model": model, "alias": alias, "to_version": version, "forced": force})
        if kind == "rollback":
            model, alias = rng.choice(models), rng.choice(ALIASES)
            argv = ["models", "rollback", model, "--alias", alias, "--reason", tag]
            to = rng.randint(1, versions[model]) if rng.random() < 0.2 else None
            if to is not None:
                argv += ["--to", str(to)]
            return Write(kind, argv, cycle, tag, {"model": model, "alias": alias, "to_version": to})
        role = rng.choice(("viewer", "editor", "admin"))
        return Write("token", ["tokens", "create", "--name", tag, "--role", role], cycle, tag,
                     {"name": tag, "role": role})


class Writers:
    """`count` threads that each run one CLI write after another until stop(); the main thread
    kills the server meanwhile. Every attempt is appended to `log`."""

    def __init__(self, cli_base, work_dir, mix, log, rng_seed, count):
        self.cli_base = cli_base  # [cli, --server, ADDR, -o, json, --token T]
        self.work_dir = work_dir
        self.mix = mix
        self.log = log
        self.rng_seed = rng_seed
        self.count = count
        self.lock = threading.Lock()
        self.inflight = {}  # pid -> (Popen, time.monotonic() at its start)
        self.stopping = threading.Event()
        self.threads = []

    def start(self, cycle):
        self.stopping.clear()
        self.threads = [threading.Thread(target=self._loop, args=(cycle, i), daemon=True)
                        for i in range(self.count)]
        for t in self.threads:
            t.start()

    def in_flight(self, min_age=0.0):
        """Writes running for at least `min_age` seconds."""
        now = time.monotonic()
        with self.lock:
            return sum(1 for _, sent in self.inflight.values() if now - sent >= min_age)

    def stop(self):
        """No new write starts after this."""
        self.stopping.set()

    def join(self, grace):
        """Waits `grace` seconds for the writes in flight to end on their own (a dead server
        answers UNAVAILABLE at once), then ends the stragglers (e.g. a CLI still dialling)."""
        deadline = time.monotonic() + grace
        for t in self.threads:
            t.join(max(0.0, deadline - time.monotonic()))
        with self.lock:
            stragglers = [proc for proc, _ in self.inflight.values()]
        for proc in stragglers:
            try:
                proc.send_signal(signal.SIGKILL)
            except ProcessLookupError:
                pass
        for t in self.threads:
            t.join(harness.CMD_TIMEOUT)
            if t.is_alive():
                raise AssertionError("a writer thread did not end")

    def _loop(self, cycle, index):
        rng = random.Random("%s/%d/%d" % (self.rng_seed, cycle, index))
        n = 0
        while not self.stopping.is_set():
            n += 1
            w = self.mix.next(rng, cycle, "c%dw%dn%d" % (cycle, index, n))
            self._run(w)

    def _run(self, w):
        w.sent = time.monotonic()
        proc = subprocess.Popen(self.cli_base + w.argv, cwd=self.work_dir, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True,
                                env=harness._cli_env())
        with self.lock:
            self.inflight[proc.pid] = (proc, w.sent)
        out, err = proc.communicate()
        w.done = time.monotonic()
        with self.lock:
            del self.inflight[proc.pid]
        w.stderr = err
        if proc.returncode == 0:
            w.acked, w.code = True, "OK"
            try:
                w.result = json.loads(out)
            except ValueError as e:
                w.code = "BAD_JSON"
                w.stderr = "exit 0 but stdout is not JSON (%s): %r" % (e, out[:500])
                w.acked = False
        elif proc.returncode == -signal.SIGKILL:
            w.code = "KILLED"
        else:
            code = err.split(":", 2)[1].strip() if err.startswith("error: ") else "?"
            w.code = code if code.isupper() else "?"
        if w.acked:
            self.mix.knowledge.note(w)
        with self.lock:
            self.log.append(w)
