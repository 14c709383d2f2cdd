#!/usr/bin/env python3
"""Issue 10, item 6: damaged storage is refused with a clear error, never a crash, never served.

- A dataset's column file with one flipped byte, or cut short, makes every read of that dataset
  (describe, head, a run submitted on it) answer DATA_LOSS naming the dataset; the server goes
  on serving.
- A model blob with one flipped byte, or cut short, is DATA_LOSS naming the run or the model
  version, when registered or when first served; other models keep serving.
- A registry database with garbage over its header, cut in half, with overwritten pages, or
  emptied while the blobs remain stops mlprod-server at start-up with an exit status of 1 and a
  DATA_LOSS message naming mlprod.db, not a crash and not an empty registry."""

import os
import shutil
import sqlite3
import subprocess
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

ROW = "years_code=5,country=Germany,remote=yes"


def flip_byte(path, offset):
    with open(path, "r+b") as f:
        f.seek(offset)
        byte = f.read(1)
        f.seek(offset)
        f.write(bytes([byte[0] ^ 0x01]))


def cut_in_half(path):
    os.truncate(path, os.path.getsize(path) // 2)


class Corruption(harness.ServerTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        try:
            cls.upload_salaries()                                              # intact
            cls.ok("datasets", "upload", "salaries.csv", "--name", "flipped")
            cls.ok("datasets", "upload", "salaries.csv", "--name", "cut")
            cls.submit(harness.LINEAR)                                         # r1
            cls.submit(harness.LINEAR, seed=8)                                 # r2
            cls.submit(harness.QUADRATIC)                                      # r3
            cls.ok("models", "register", "salary", "--run", "r1")
            cls.ok("models", "promote", "salary", "1", "--reason", "serving")
            cls.ok("models", "register", "other", "--run", "r3")
            cls.good_prediction = cls.ok("predict", "salary", "--row", ROW)
        except BaseException:
            cls.tearDownClass()
            raise

    def blob_path(self, sql, *params):
        con = sqlite3.connect(os.path.join(self.data_dir, "mlprod.db"))
        try:
            row = con.execute(sql, params).fetchone()
        finally:
            con.close()
        self.assertIsNotNone(row, sql)
        return os.path.join(self.data_dir, "blobs", row[0])

    def dataset_blob(self, name):
        return self.blob_path("SELECT blob_key FROM datasets WHERE name = ?", name)

    def model_blob(self, run):
        return self.blob_path("SELECT model_blob_key FROM runs WHERE seq = ?", int(run[1:]))

    def assertStillServing(self):
        self.assertTrue(self.server.running(), "the server died; log:\n" + self.server.log())
        self.assertEqual(self.ok("predict", "salary", "--row", ROW), self.good_prediction)
        self.ok("datasets", "describe", "salaries")

    def test_damaged_column_files_are_data_loss(self):
        path = self.dataset_blob("flipped")
        flip_byte(path, os.path.getsize(path) // 3)  # inside the column data
        cut_in_half(self.dataset_blob("cut"))
        for name in ("flipped", "cut"):
            # A submit reads the columns to check the formula, so it is refused at once.
            for argv in (("datasets", "describe", name), ("datasets", "head", name),
                         ("runs", "submit", "--dataset", name, "--formula", harness.LINEAR)):
                self.assertError("DATA_LOSS", *argv, mentions=[name + "@1"])
            self.assertStillServing()
        self.assertEqual(len(self.ok("runs", "list")["runs"]), 3, "a refused submit left a run")

    def test_damaged_model_blobs_are_data_loss(self):
        path = self.model_blob("r2")
        flip_byte(path, os.path.getsize(path) // 2)  # a digit of some coefficient
        self.assertError("DATA_LOSS", "models", "register", "flipped-model", "--run", "r2",
                         mentions=["r2"])
        self.assertError("NOT_FOUND", "models", "show", "flipped-model")
        # Registered while intact, cut short before it was first served.
        cut_in_half(self.model_blob("r3"))
        self.assertError("DATA_LOSS", "predict", "other@1", "--row", ROW,
                         mentions=["other", "version 1"])
        self.assertStillServing()

    def test_z_damaged_database_stops_the_start_up(self):
        rc = self.server.stop()
        self.assertEqual(rc, 0, "the server did not stop cleanly; log:\n" + self.server.log())
        db = os.path.join(self.data_dir, "mlprod.db")
        self.assertFalse(os.path.exists(db + "-wal"), "a clean stop leaves no WAL behind")
        size = os.path.getsize(db)
        self.assertGreater(size, 8 * 4096)

        def garbage_header(path):
            with open(path, "r+b") as f:
                f.write(bytes((i * 37 + 11) % 256 for i in range(100)))

        def overwritten_pages(path):
            with open(path, "r+b") as f:
                f.seek(4096)
                f.write(bytes((i * 131 + 7) % 251 for i in range(3 * 4096)))

        damages = {
            "garbage header": garbage_header,
            "cut in half": cut_in_half,
            "overwritten pages": overwritten_pages,
            "emptied": lambda path: os.truncate(path, 0),
        }
        for what, damage in damages.items():
            with self.subTest(damage=what):
                copy = os.path.join(self.tmp, "damaged-" + what.replace(" ", "-"))
                shutil.copytree(self.data_dir, copy)
                damage(os.path.join(copy, "mlprod.db"))
                proc = subprocess.run(
                    [harness.args().server_bin, "--listen", "127.0.0.1:0", "--data-dir", copy],
                    capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
                self.assertEqual(proc.returncode, 1,
                                 "%s: mlprod-server should exit 1 (a negative status is a "
                                 "signal, a crash); stderr:\n%s" % (what, proc.stderr[-3000:]))
                self.assertNotIn("listening", proc.stdout)
                self.assertIn("DATA_LOSS", proc.stderr, what)
                self.assertIn(os.path.join(copy, "mlprod.db"), proc.stderr, what)
        # The undamaged folder still starts and serves as before.
        self.server.start()
        self.assertEqual(self.ok("predict", "salary", "--row", ROW), self.good_prediction)


if __name__ == "__main__":
    harness.main()
