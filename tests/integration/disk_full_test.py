#!/usr/bin/env python3
"""Issue 10, item 6: a full disk. The data directory is a small tmpfs that the test fills up,
leaving no room, or just enough room for one part of a write. Every write that does not fit
answers RESOURCE_EXHAUSTED saying the disk is full and where, wherever it runs out: an upload's
scratch text, a dataset's column file, SQLite's WAL, a run's model blob (the run then ends
FAILED, not RUNNING). Earlier data stays readable and intact, nothing half-written is left, and
once space is freed the same server process takes writes again.

Needs root to mount the tmpfs (CI runs as root); without it the test fails and says so."""

import glob
import json
import os
import random
import shutil
import sqlite3
import subprocess
import sys
import tempfile

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

MOUNT_MB = 32
ROW = "years_code=5,country=Germany,remote=yes"
TERMINAL = {"SUCCEEDED", "FAILED", "CANCELLED"}
WIDE_COLUMNS = 100  # its OLS model blob holds a 101 x 101 covariance: about 250 KB


def mount_tmpfs(path, size_mb):
    if os.geteuid() != 0:
        raise AssertionError("the disk-full test mounts a tmpfs and must run as root "
                             "(CI does); it is not skipped")
    proc = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=%dM" % size_mb, "tmpfs", path],
                          capture_output=True, text=True)
    if proc.returncode != 0:
        raise AssertionError("cannot mount a %d MB tmpfs on %s for the disk-full test: %s"
                             % (size_mb, path, (proc.stderr or proc.stdout).strip()))


def write_until_full(path):
    """Appends to `path` until the file system says ENOSPC; returns the bytes written."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    written = 0
    try:
        for chunk in (1 << 20, 4096):
            block = b"\0" * chunk
            while True:
                try:
                    written += os.write(fd, block)
                except OSError as e:
                    if e.errno != 28:  # ENOSPC
                        raise
                    break
    finally:
        os.close(fd)
    return written


class DiskFull(harness.ServerTestCase):

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="mlprod-it-diskfull-")
        cls.mounted = False
        cls.server = None
        try:
            cls.data_dir = os.path.join(cls.tmp, "data")
            os.makedirs(cls.data_dir)
            mount_tmpfs(cls.data_dir, MOUNT_MB)
            cls.mounted = True
            cls.work_dir = os.path.join(cls.tmp, "work")
            os.makedirs(cls.work_dir)
            cls.csv_path = os.path.join(cls.work_dir, "salaries.csv")
            subprocess.run([sys.executable, harness.args().generator, cls.csv_path], check=True,
                           timeout=harness.CMD_TIMEOUT)
            cls.write_wide_csv(os.path.join(cls.work_dir, "wide.csv"))
            cls.server = harness.Server(cls.data_dir, cls.tmp)
            cls.server.start()
            cls.pid = cls.server.proc.pid
            cls.upload_salaries()                                          # salaries@1
            cls.ok("datasets", "upload", "wide.csv", "--name", "wide")    # wide@1
            cls.submit(harness.LINEAR)                                     # r1
            cls.submit(harness.QUADRATIC)                                  # r2
            cls.ok("models", "register", "salary", "--run", "r1")         # v1
            cls.ok("models", "register", "salary", "--run", "r2")         # v2
            cls.ok("models", "promote", "salary", "1", "--reason", "first")
            cls.before = cls.snapshot()
        except BaseException:
            cls._cleanup()
            raise

    @classmethod
    def _cleanup(cls):
        try:
            if cls.server is not None and cls.server.running():
                cls.server.stop()
        except Exception as e:  # never leave a server behind
            print("warning: %s" % e, file=sys.stderr)
            cls.server.kill()
        finally:
            if cls.mounted:
                subprocess.run(["umount", cls.data_dir], check=False)
            if harness.args().keep:
                print("kept %s" % cls.tmp, file=sys.stderr)
            else:
                shutil.rmtree(cls.tmp, ignore_errors=True)

    @classmethod
    def write_wide_csv(cls, path):
        rng = random.Random(11)
        with open(path, "w") as f:
            f.write(",".join(["y"] + ["x%d" % i for i in range(WIDE_COLUMNS)]) + "\n")
            for _ in range(300):
                xs = [rng.gauss(0, 1) for _ in range(WIDE_COLUMNS)]
                y = 3 + sum(xs[:5]) + rng.gauss(0, 0.5)
                f.write(",".join("%.6f" % v for v in [y] + xs) + "\n")

    @classmethod
    def snapshot(cls):
        """What the earlier writes look like to a client, as JSON documents."""
        return {
            "datasets list": cls.ok("datasets", "list"),
            "describe salaries": cls.ok("datasets", "describe", "salaries@1"),
            "head wide": cls.ok("datasets", "head", "wide@1", "-n", "5"),
            "runs show r1": cls.ok("runs", "show", "r1"),
            "runs show r2": cls.ok("runs", "show", "r2"),
            "models show": cls.ok("models", "show", "salary"),
            "models history": cls.ok("models", "history", "salary"),
            "predict": cls.ok("predict", "salary", "--row", ROW, "--intervals"),
            "predict @2": cls.ok("predict", "salary@2", "--row", ROW),
        }

    # ---- helpers

    def fill(self, leave=0):
        """Fills the data directory's file system so that `leave` bytes stay free."""
        self.free()
        reserve = os.path.join(self.data_dir, "reserve")
        if leave:
            with open(reserve, "wb") as f:
                f.write(b"\0" * leave)
        write_until_full(os.path.join(self.data_dir, "filler"))
        if leave:
            os.remove(reserve)
        st = os.statvfs(self.data_dir)
        self.assertLessEqual(st.f_bavail * st.f_frsize, leave + 8192)

    def free(self):
        for name in ("filler", "reserve"):
            path = os.path.join(self.data_dir, name)
            if os.path.exists(path):
                os.remove(path)

    def assertDiskFull(self, *argv):
        """The command fails with RESOURCE_EXHAUSTED saying the disk is full, naming a file in
        the data directory."""
        message = self.assertError("RESOURCE_EXHAUSTED", *argv, mentions=["disk full"])
        self.assertIn(self.data_dir, message, "the message should say where the disk is full")
        return message

    def assertNothingHalfWritten(self):
        self.assertEqual(glob.glob(os.path.join(self.data_dir, "blobs", "upload.tmp.*")), [],
                         "a failed write left its temporary file behind")
        self.assertEqual(self.ok("datasets", "list"), self.before["datasets list"])

    def assertSameServer(self):
        self.assertTrue(self.server.running(), "the server died; log:\n" + self.server.log())
        self.assertEqual(self.server.proc.pid, self.pid, "the server was restarted")

    def assertEarlierDataIntact(self):
        after = self.snapshot()
        for key, doc in self.before.items():
            self.assertEqual(after[key], doc, "%s changed" % key)

    # ---- the tests, in order

    def test_1_no_room_at_all_refuses_every_write(self):
        self.fill(leave=0)
        try:
            # The upload's scratch text is the first thing written.
            self.assertDiskFull("datasets", "upload", "salaries.csv", "--name", "salaries2")
            # SQLite's WAL: metadata writes alone.
            message = self.assertDiskFull("experiments", "create", "tuning")
            self.assertIn("mlprod.db", message)
            self.assertDiskFull("runs", "submit", "--dataset", "salaries", "--formula",
                                harness.LINEAR)
            self.assertDiskFull("models", "register", "salary", "--run", "r2")
            self.assertDiskFull("models", "promote", "salary", "2", "--reason", "full")
            self.assertNothingHalfWritten()
            self.assertNotIn("tuning", json.dumps(self.ok("experiments", "list")))
            self.assertEqual(len(self.ok("runs", "list")["runs"]), 2)
            self.assertEarlierDataIntact()
            self.assertSameServer()
        finally:
            self.free()

    def test_2_column_file_that_does_not_fit(self):
        # Room for the upload's text but not for its column file as well: the text goes to the
        # scratch file first, the columns are written at the end of the parse.
        text = os.path.getsize(self.csv_path)
        columns = os.path.getsize(os.path.join(self.data_dir, "blobs", "datasets", "1.cols"))
        self.fill(leave=text + columns // 2)
        try:
            self.assertDiskFull("datasets", "upload", "salaries.csv", "--name", "salaries2")
            self.assertNothingHalfWritten()
            self.assertSameServer()
        finally:
            self.free()

    def test_3_run_whose_model_does_not_fit_ends_failed(self):
        # Room for the run's rows in SQLite, not for its ~250 KB model blob.
        self.fill(leave=64 * 1024)
        try:
            run = self.ok("runs", "submit", "--dataset", "wide", "--formula", "y ~ .")
            done = harness.wait_for_status(self, run["id"], TERMINAL, timeout=60)
            self.assertEqual(done["status"], "FAILED", json.dumps(done)[:2000])
            self.assertIn("RESOURCE_EXHAUSTED", done.get("error", ""), json.dumps(done)[:2000])
            self.assertIn("disk full", done.get("error", "").lower())
            self.assertEqual(glob.glob(os.path.join(self.data_dir, "blobs", "upload.tmp.*")), [])
            self.assertSameServer()
        finally:
            self.free()

    def test_4_writes_work_again_once_space_is_freed(self):
        self.free()
        uploaded = self.ok("datasets", "upload", "salaries.csv", "--name", "salaries2")
        self.assertEqual(uploaded["version"], 1)
        self.ok("experiments", "create", "tuning")
        run = self.ok("runs", "submit", "--dataset", "wide", "--formula", "y ~ .", "--watch")
        self.assertEqual(run["status"], "SUCCEEDED", json.dumps(run)[:2000])
        self.ok("models", "register", "salary", "--run", "r2")
        self.ok("models", "promote", "salary", "2", "--reason", "room again")
        self.assertEqual(self.ok("predict", "salary", "--row", ROW)["version"], 2)
        self.assertSameServer()

    def test_5_everything_is_on_disk_after_a_restart(self):
        rc = self.server.stop()
        self.assertEqual(rc, 0, "the server did not stop cleanly; log:\n" + self.server.log())
        con = sqlite3.connect(os.path.join(self.data_dir, "mlprod.db"))
        try:
            self.assertEqual(con.execute("PRAGMA integrity_check").fetchall(), [("ok",)])
        finally:
            con.close()
        self.server.start()
        self.pid = self.server.proc.pid
        after = self.snapshot()
        for key in ("describe salaries", "head wide", "runs show r1", "runs show r2",
                    "predict @2"):
            self.assertEqual(after[key], self.before[key], "%s changed" % key)
        names = [d["name"] for d in after["datasets list"]["datasets"]]
        self.assertEqual(sorted(names), ["salaries", "salaries2", "wide"])


if __name__ == "__main__":
    harness.main()
