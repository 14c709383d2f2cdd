#!/usr/bin/env python3
"""SPEC §9 online backup: `mlprod-server backup --data-dir D --out FILE` while the server on D
keeps answering and writing; the tar restores into a data folder on which a new server shows
every dataset, run, model version, alias and history entry, and predicts the same bits."""

import json
import os
import sqlite3
import subprocess
import sys
import tarfile
import threading

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

ROW = "years_code=5,country=Germany,remote=yes"


class Backup(harness.ServerTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        try:
            cls.upload_salaries()
            cls.submit("salary ~ years_code + country + remote")                       # r1
            cls.submit("salary ~ years_code + I(years_code^2) + country + remote")     # r2
            cls.ok("models", "register", "salary", "--run", "r1")
            cls.ok("models", "register", "salary", "--run", "r2")
            cls.ok("models", "promote", "salary", "1", "--reason", "first")
            cls.ok("models", "promote", "salary", "2", "--reason", "second")
        except BaseException:
            cls.tearDownClass()
            raise

    def backup(self, out):
        return subprocess.run([harness.args().server_bin, "backup", "--data-dir", self.server.data_dir,
                               "--out", out], capture_output=True, text=True, timeout=120)

    def snapshot(self, cli):
        """What a user sees of the registry, through the CLI."""
        return {
            "datasets": [(d["name"], d["version"], d["sha256"]) for d in cli("datasets", "list")["datasets"]],
            "runs": [(r["id"], r["status"], r["metrics"].get("test_rmse")) for r in cli("runs", "list")["runs"]],
            "models": [(v["version"], v["run"], sorted(v["aliases"])) for v in cli("models", "show", "salary")["versions"]],
            "history": [(e["from_version"], e["to_version"], e["reason"]) for e in cli("models", "history", "salary")["entries"]],
            "coefficients": [(c["term"], c["estimate"]) for c in cli("runs", "show", "r2")["coefficients"]],
            "predict": cli("predict", "salary", "--row", ROW),
        }

    def test_backup_while_serving_restores_everything(self):
        before = self.snapshot(self.ok)
        out = os.path.join(self.tmp, "backup.tar")
        # Predictions keep flowing while the backup runs.
        stop = threading.Event()
        failures = []

        def load():
            while not stop.is_set():
                r = self.cli("predict", "salary", "--row", ROW)
                if r.returncode != 0:
                    failures.append(r.describe())

        loader = threading.Thread(target=load)
        loader.start()
        try:
            r = self.backup(out)
        finally:
            stop.set()
            loader.join()
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("3 blob(s)", r.stdout)
        self.assertEqual(failures, [])
        self.assertFalse(os.path.exists(out + ".tmp"))
        self.assertFalse(os.path.exists(out + ".db.tmp"))

        with tarfile.open(out) as tar:
            names = sorted(tar.getnames())
            self.assertEqual(names, ["blobs/datasets/1.cols", "blobs/models/r1.model",
                                     "blobs/models/r2.model", "mlprod.db"])
            restored = os.path.join(self.tmp, "restored")
            tar.extractall(restored)
        db = sqlite3.connect(os.path.join(restored, "mlprod.db"))
        try:
            self.assertEqual(db.execute("PRAGMA integrity_check").fetchone()[0], "ok")
        finally:
            db.close()

        # The server on the live folder is untouched and still writes.
        self.ok("models", "promote", "salary", "1", "--reason", "after the backup", "--force")

        second = harness.Server(restored, self.tmp)
        second.start()
        try:
            def cli_on_restored(*argv):
                full = [harness.args().cli_bin, "--server", second.address, "-o", "json"] + list(argv)
                p = subprocess.run(full, capture_output=True, text=True, timeout=60, cwd=self.work_dir)
                self.assertEqual(p.returncode, 0, p.stderr)
                return json.loads(p.stdout)
            self.assertEqual(self.snapshot(cli_on_restored), before)
            # and the restored registry trains and registers on its own
            cli_on_restored("runs", "submit", "--dataset", "salaries", "--formula", "salary ~ years_code",
                            "--watch")
        finally:
            second.stop()

    def test_errors(self):
        r = subprocess.run([harness.args().server_bin, "backup", "--data-dir",
                            os.path.join(self.tmp, "nothing-here"), "--out", os.path.join(self.tmp, "x.tar")],
                           capture_output=True, text=True, timeout=60)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("NOT_FOUND", r.stderr)
        self.assertFalse(os.path.exists(os.path.join(self.tmp, "x.tar")))
        r = subprocess.run([harness.args().server_bin, "backup", "--data-dir", self.server.data_dir],
                           capture_output=True, text=True, timeout=60)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("--out", r.stderr)


if __name__ == "__main__":
    harness.main()
