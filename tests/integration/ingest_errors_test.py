#!/usr/bin/env python3
"""SPEC §7 for CSV uploads: each bad file is INVALID_ARGUMENT (or RESOURCE_EXHAUSTED over the
limit) naming the line and column, and leaves no dataset version, no SQLite row and no file."""

import os
import sqlite3
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

# name -> (bytes, code, words the message must contain: the line and the column)
BAD_FILES = {
    "ragged": (b"a,b,c\n1,2,3\n4,5\n7,8,9\n", "INVALID_ARGUMENT", ["line 3", "column 3", "'c'"]),
    "toomany": (b"a,b\n1,2\n3,4,5\n", "INVALID_ARGUMENT", ["line 3", "column 3"]),
    "badquote": (b'a,b\n1,"2\n3,4\n', "INVALID_ARGUMENT", ["line 2", "column 2"]),
    "afterquote": (b'a,b\n1,"2"x\n', "INVALID_ARGUMENT", ["line 2", "column 2"]),
    "latin1": (b"a,b\n1,2\n3,caf\xe9\n", "INVALID_ARGUMENT", ["line 3", "column 2"]),
    "empty": (b"", "INVALID_ARGUMENT", ["line 1"]),
    "dupheader": (b"a,b,a\n1,2,3\n", "INVALID_ARGUMENT", ["line 1", "column 3", "'a'"]),
}
LIMIT_MB = 1


class IngestErrors(harness.ServerTestCase):
    server_args = ("--max-upload-mb", str(LIMIT_MB))

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        try:
            for name, (data, _, _) in BAD_FILES.items():
                with open(os.path.join(cls.work_dir, name + ".csv"), "wb") as f:
                    f.write(data)
            with open(os.path.join(cls.work_dir, "big.csv"), "w") as f:
                f.write("x,y\n")
                row = "1234567.891,2345678.912\n"
                f.write(row * (2 * LIMIT_MB * 1024 * 1024 // len(row)))
            with open(os.path.join(cls.work_dir, "good.csv"), "w") as f:
                f.write("x,y\n1,2\n3,4\n")
            cls.ok("datasets", "upload", "good.csv", "--name", "good")
        except BaseException:
            cls.tearDownClass()
            raise

    def stored(self):
        """(dataset rows in SQLite, files under blobs/), read from the data dir itself."""
        db = sqlite3.connect("file:%s?mode=ro" % os.path.join(self.server.data_dir, "mlprod.db"),
                             uri=True)
        try:
            rows = db.execute("SELECT COUNT(*) FROM datasets").fetchone()[0]
        finally:
            db.close()
        files = []
        for root, _, names in os.walk(os.path.join(self.server.data_dir, "blobs")):
            files += [os.path.join(root, n) for n in names]
        return rows, sorted(files)

    def assertNothingLeft(self, before):
        self.assertEqual(self.stored(), before)
        self.assertEqual([d["name"] for d in self.ok("datasets", "list")["datasets"]], ["good"])

    def test_each_bad_file_names_line_and_column_and_leaves_nothing(self):
        for name, (_, code, words) in BAD_FILES.items():
            with self.subTest(file=name):
                before = self.stored()
                self.assertEqual(before[0], 1)
                message = self.assertError(code, "datasets", "upload", name + ".csv", "--name", name,
                                           mentions=words)
                self.assertTrue(message)
                self.assertNothingLeft(before)
                self.assertError("NOT_FOUND", "datasets", "show", name)

    def test_upload_over_the_limit_is_resource_exhausted_and_leaves_nothing(self):
        before = self.stored()
        self.assertError("RESOURCE_EXHAUSTED", "datasets", "upload", "big.csv", "--name", "big",
                         mentions=["limit"])
        self.assertNothingLeft(before)


if __name__ == "__main__":
    harness.main()
