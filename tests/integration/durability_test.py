#!/usr/bin/env python3
"""Durability under kill -9 (SPEC §7, issue 10 item 4).

Each cycle starts the real mlprod-server on the same data directory, lets four writer threads
drive the real `mlprod` CLI (uploads, sometimes of bytes already there; run submissions, some
still queued or running at the kill; model registers; promotes and rollbacks, forced or gated),
and kills the server with SIGKILL at a random moment while writes are in flight. The client-side
log keeps every write that was acknowledged (exit 0 with its JSON answer). Then:
  - with the server down, `PRAGMA integrity_check` and `foreign_key_check` pass (WAL mode);
  - after the restart, every acknowledged write is present with the acknowledged content (dataset
    versions and SHA-256, run ids, model versions, alias moves with their from/to); an
    unacknowledged one is there whole or not at all; nothing half-applied is visible (a dataset
    row without its blob, a model version without its succeeded run, an alias move without its
    history row); the alias history replays to the alias table; no run is QUEUED or RUNNING
    (they are FAILED "interrupted"); all the previous check saw is unchanged; and the server
    itself answers the same (history, describe, predict through the CLI).

    durability_test.py --server-bin B --cli-bin C --generator G [--cycles N | --long] [--seed S]

`make test` runs 200 cycles (about 2-3 minutes on 2 cores); `--long` runs 1000 (docs/DURABILITY.md
has the figures). The seed fixes every random choice; timing still varies from run to run, and the
verdict must not.
"""

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import durability_check as check  # noqa: E402
import durability_writes as writes  # noqa: E402
import harness  # noqa: E402

WRITERS = 4
# Writes run this long (uniformly drawn) before the kill: short enough that restarts dominate
# and many kills land mid-commit, long enough for runs to queue up behind the workers.
WRITE_SECONDS = (0.05, 0.45)
# A CLI needs ~20 ms to start and connect; the kill waits for a write older than this, so that
# it lands while a call is at the server rather than while every client is still dialling.
CONNECTED_AGE = 0.03
STRAGGLER_GRACE = 0.15  # seconds the writes in flight get to notice the kill (a few ms)
SMALL_FILES = 10
BIG_ROWS = 40000

_OPTIONS = None


def parse_own_args():
    """--cycles/--long/--seed; the rest goes to harness.main()."""
    global _OPTIONS
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--cycles", type=int, default=200)
    parser.add_argument("--long", action="store_true", help="1000 cycles")
    parser.add_argument("--seed", default="20240610")
    _OPTIONS, rest = parser.parse_known_args()
    if _OPTIONS.long:
        _OPTIONS.cycles = max(_OPTIONS.cycles, 1000)
    sys.argv = [sys.argv[0]] + rest


class Durability(unittest.TestCase):

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="mlprod-durability-")
        self.data_dir = os.path.join(self.tmp, "data")
        self.work_dir = os.path.join(self.tmp, "work")
        os.makedirs(self.work_dir)
        self.server = harness.Server(self.data_dir, self.tmp, ["--workers", "2"])

    def tearDown(self):
        if self.server.running():
            self.server.kill()
        if harness.args().keep:
            print("kept %s" % self.tmp, file=sys.stderr)
        else:
            shutil.rmtree(self.tmp, ignore_errors=True)

    def fail_with(self, cycle, problems):
        self.fail("cycle %d of %d (seed %s; rerun with --seed %s --cycles %d --keep): %d problem(s):\n%s"
                  % (cycle, _OPTIONS.cycles, _OPTIONS.seed, _OPTIONS.seed, _OPTIONS.cycles,
                     len(problems), "\n".join(problems[:30])))

    # -- set-up ------------------------------------------------------------------------------

    def make_files(self, rng):
        files = []
        for i in range(SMALL_FILES):
            path = os.path.join(self.work_dir, "s%d.csv" % i)
            writes.write_small_csv(path, rng.random(), rng.randint(60, 120))
            files.append((path,) + writes.file_facts(path))
        big = os.path.join(self.work_dir, "big.csv")
        writes.write_small_csv(big, rng.random(), BIG_ROWS)
        return files, (big,) + writes.file_facts(big)

    def bootstrap_tokens(self):
        """The first admin comes from `mlprod-server token create`; every CLI call then carries
        its token, since auth is on once a token exists."""
        proc = subprocess.run([harness.args().server_bin, "token", "create", "--data-dir",
                               self.data_dir, "--name", "setup-admin", "--role", "admin"],
                              capture_output=True, text=True, timeout=60)
        self.assertEqual(proc.returncode, 0, "mlprod-server token create: %s" % proc.stderr)
        return proc.stdout.split()[-1]

    def setup_writes(self, big):
        """Cycle 0: a model with versions in production, so that every kind of write can happen
        from the first cycle on. Logged like every other write."""
        def do(kind, argv, request):
            w = writes.Write(kind, argv, 0, "setup%d" % (len(self.log) + 1), request)
            if kind in ("promote", "rollback"):
                w.argv = argv + ["--reason", w.tag]
            self.writers._run(w)
            self.assertTrue(w.acked, "set-up write failed: %r" % w)
            return w.result

        path, sha, rows = big
        do("upload", ["datasets", "upload", path, "--name", writes.BIG_DATASET],
           {"name": writes.BIG_DATASET, "sha256": sha, "rows": rows, "path": path})
        path, sha, rows = self.files[0]
        do("upload", ["datasets", "upload", path, "--name", "d0"],
           {"name": "d0", "sha256": sha, "rows": rows, "path": path})
        for seed in (1, 2):
            run = do("submit", ["runs", "submit", "--dataset", "d0", "--formula", "y ~ x + g",
                                "--test-fraction", "0.25", "--seed", str(seed), "--watch"],
                     {"dataset": "d0", "formula": "y ~ x + g", "seed": seed})
            self.assertEqual(run["status"], "SUCCEEDED", run)
            for model in writes.MODEL_NAMES:
                do("register", ["models", "register", model, "--run", run["id"]],
                   {"model": model, "run_seq": int(run["id"][1:])})
        for model in writes.MODEL_NAMES:
            do("promote", ["models", "promote", model, "1", "--force"],
               {"model": model, "alias": "production", "to_version": 1, "forced": True})

    # -- checks through the server ----------------------------------------------------------

    def api_problems(self, rng, snap):
        """The restarted server answers what the file holds: a model's history, a dataset's
        bytes read back (describe), and predict by alias served by the version the table says."""
        problems = []

        def cli(*argv):
            proc = subprocess.run(self.cli_base + list(argv), cwd=self.work_dir,
                                  capture_output=True, text=True, timeout=harness.CMD_TIMEOUT,
                                  stdin=subprocess.DEVNULL, env=harness._cli_env())
            if proc.returncode != 0:
                problems.append("mlprod %s: exit %d: %s" % (" ".join(argv), proc.returncode,
                                                           proc.stderr.strip()))
                return None
            return json.loads(proc.stdout)

        model = rng.choice(writes.MODEL_NAMES)
        doc = cli("models", "history", model)
        if doc is not None:
            got = [(e["alias"], e["from_version"], e["to_version"], e["reason"]) for e in doc["entries"]]
            want = [(h["alias"], h["from"], h["to"], h["reason"]) for h in snap.history
                    if h["model"] == model]
            if got != want:
                problems.append("models history %s answers %d entries unlike the file's %d"
                                % (model, len(got), len(want)))
        uploads = [w for w in self.log if w.kind == "upload" and w.acked]
        w = rng.choice(uploads)
        doc = cli("datasets", "describe", "%s@%d" % (w.result["name"], w.result["version"]))
        if doc is not None and (doc["rows"], doc["columns"][0]["count"]) != (w.request["rows"],) * 2:
            problems.append("describe %s@%d: %s rows, want %d" % (
                w.result["name"], w.result["version"], doc["rows"], w.request["rows"]))
        (model, alias), version = rng.choice(sorted(snap.aliases.items()))
        doc = cli("predict", "%s@%s" % (model, alias), "--row", "x=2.5,g=b")
        if doc is not None and doc["version"] != version:
            problems.append("predict %s@%s answered by version %s, the alias table says %d"
                            % (model, alias, doc["version"], version))
        return problems + self.token_problems(cli)

    def token_problems(self, cli):
        """Acknowledged tokens are listed with their role, and the latest one's secret works."""
        problems = []
        doc = cli("tokens", "list")
        if doc is None:
            return problems
        listed = {t["name"]: t["role"] for t in doc["tokens"]}
        acked = [w for w in self.log if w.kind == "token" and w.acked]
        for w in acked:
            if listed.get(w.tag) != w.request["role"]:
                problems.append("acknowledged token %s (%s) is listed as %r" % (
                    w.tag, w.request["role"], listed.get(w.tag)))
        if acked:
            base = self.cli_base[:self.cli_base.index("--token")]
            proc = subprocess.run(base + ["--token", acked[-1].result["token"], "datasets", "list"],
                                  capture_output=True, text=True, timeout=harness.CMD_TIMEOUT,
                                  env=harness._cli_env())
            if proc.returncode != 0:
                problems.append("the secret of acknowledged token %s is refused: %s" % (
                    acked[-1].tag, proc.stderr.strip()))
        return problems

    # -- the loop -----------------------------------------------------------------------------

    def start_server(self, mix):
        self.server.start()
        self.cli_base = [harness.args().cli_bin, "--server", self.server.address, "-o", "json",
                         "--token", self.admin_token]
        self.writers = writes.Writers(self.cli_base, self.work_dir, mix, self.log,
                                      _OPTIONS.seed, WRITERS)

    def test_acknowledged_writes_survive_kill9(self):
        opts = _OPTIONS
        rng = random.Random(opts.seed)
        print("seed %s, %d cycles" % (opts.seed, opts.cycles), file=sys.stderr)
        self.files, big = self.make_files(rng)
        self.admin_token = self.bootstrap_tokens()
        self.log = []
        knowledge = writes.Knowledge()
        mix = writes.WriteMix(self.work_dir, self.files, knowledge)

        started = time.monotonic()
        stats = {"in_flight_at_kill": 0, "after_kill": {}, "refused": {}}
        sent, numbers = check.Sent(), {}
        previous, checked_upto = None, 0
        self.start_server(mix)
        self.setup_writes(big)
        self.server.kill()
        # Cycle c checks what the kill of cycle c - 1 left, then writes and kills again; the last
        # one only checks.
        for cycle in range(1, opts.cycles + 2):
            problems = check.check_file(self.data_dir)
            self.start_server(mix)
            snap = check.Snapshot(self.data_dir)
            cycle_writes = self.log[checked_upto:]
            sent.add(cycle_writes)
            problems += check.check_consistency(snap, self.data_dir)
            problems += check.check_preserved(previous, snap)
            problems += check.check_acknowledged(cycle_writes, snap, sent, numbers)
            problems += check.check_real_time_order(cycle_writes, snap)
            problems += self.api_problems(rng, snap)
            if problems:
                self.fail_with(cycle, problems)
            previous, checked_upto = snap, len(self.log)
            if cycle > opts.cycles:
                break

            knowledge.refresh(snap)
            self.writers.start(cycle)
            time.sleep(rng.uniform(*WRITE_SECONDS))
            deadline = time.monotonic() + 0.5
            while self.writers.in_flight(CONNECTED_AGE) == 0 and time.monotonic() < deadline:
                time.sleep(0.002)
            self.writers.stop()
            killed_at = time.monotonic()
            stats["in_flight_at_kill"] += self.writers.in_flight()
            self.server.kill()
            self.writers.join(STRAGGLER_GRACE)

            # Before the kill the server was alive: it may refuse a write only in the documented
            # ways. After it, whatever the client saw, the write is simply unacknowledged.
            problems = []
            for w in self.log[checked_upto:]:
                if w.acked:
                    continue
                if w.done < killed_at and w.code not in writes.EXPECTED_REFUSALS:
                    problems.append("answered %s by a live server: %r" % (w.code, w))
                bucket = stats["refused"] if w.done < killed_at else stats["after_kill"]
                bucket[w.code] = bucket.get(w.code, 0) + 1
            if problems:
                self.fail_with(cycle, problems)

        # Once more over the whole log against the final state.
        problems = check.check_acknowledged(self.log, snap, sent, {})
        rc = self.server.stop()
        problems += check.check_file(self.data_dir)
        if rc != 0:
            problems.append("SIGTERM stop exited %s" % rc)
        if problems:
            self.fail_with(opts.cycles, problems)
        self.report(stats, snap, time.monotonic() - started)

    def report(self, stats, snap, seconds):
        """The figures of docs/DURABILITY.md."""
        def count(writes_):
            out = {}
            for w in writes_:
                out[w.kind] = out.get(w.kind, 0) + 1
            return json.dumps(out, sort_keys=True)

        acked = [w for w in self.log if w.acked]
        existed = sum(1 for w in acked if w.kind == "upload" and w.result["existed"])
        lost = [w for w in self.log if not w.acked and w.code not in writes.EXPECTED_REFUSALS]
        moves = [w for w in lost if w.kind in ("promote", "rollback")]
        moves_landed = sum(1 for w in moves if w.tag in snap.history_by_reason)
        # In-flight uploads of bytes that no acknowledged upload carried: did they land?
        acked_bytes = {(w.request["name"], w.request["sha256"]) for w in acked if w.kind == "upload"}
        uploads = {(w.request["name"], w.request["sha256"]) for w in lost if w.kind == "upload"}
        uploads -= acked_bytes
        stored = {(name, d["sha256"]) for (name, _), d in snap.datasets.items()}
        uploads_landed = len(uploads & stored)
        interrupted = [r for r in snap.runs.values() if r["error"] == "interrupted"]
        running = sum(1 for r in interrupted if r["started"])
        lines = [
            "durability: %d cycles in %.1f s, seed %s" % (_OPTIONS.cycles, seconds, _OPTIONS.seed),
            "  writes sent %d; acknowledged and checked %d %s; %d uploads answered an existing "
            "version" % (len(self.log), len(acked), count(acked), existed),
            "  in flight at the kills %d; unacknowledged alias moves %d landed, %d not; "
            "unacknowledged new uploads %d landed, %d not" % (
                stats["in_flight_at_kill"], moves_landed, len(moves) - moves_landed,
                uploads_landed, len(uploads) - uploads_landed),
            "  refused by a live server %s; after the kill %s" % (
                json.dumps(stats["refused"], sort_keys=True),
                json.dumps(stats["after_kill"], sort_keys=True)),
            "  runs interrupted by the kills %d (%d RUNNING, %d QUEUED)" % (
                len(interrupted), running, len(interrupted) - running),
        ]
        print("\n".join(lines), file=sys.stderr)


if __name__ == "__main__":
    parse_own_args()
    harness.main()
