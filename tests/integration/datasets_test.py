#!/usr/bin/env python3
"""`datasets head`: the first rows of a version, cell by cell, missing cells kept missing
(null in JSON, NA in a table, empty in CSV); `datasets delete`: lineage protection, numbers never
reused, bytes removed — through the real server and CLI."""

import csv
import io
import os
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

SMALL = (
    "x,city,flag,note\n"
    "1.5,Paris,yes,\"a, quoted\"\n"
    "NA,Berlin,no,b\n"
    "3,,yes,c\n"
    "-4.25,Paris,NA,d\n"
)


class Head(harness.ServerTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        try:
            cls.upload_salaries()
            with open(os.path.join(cls.work_dir, "small.csv"), "w") as f:
                f.write(SMALL)
            cls.ok("datasets", "upload", "small.csv", "--name", "small")
            with open(os.path.join(cls.work_dir, "small2.csv"), "w") as f:
                f.write(SMALL.replace("1.5,", "9.5,"))
            cls.ok("datasets", "upload", "small2.csv", "--name", "small")  # small@2
        except BaseException:
            cls.tearDownClass()
            raise

    def test_json_cells_and_missing(self):
        doc = self.ok("datasets", "head", "small@1", "-n", "3")
        self.assertEqual(doc["name"], "small")
        self.assertEqual(doc["version"], 1)
        self.assertEqual(doc["columns"], ["x", "city", "flag", "note"])
        self.assertEqual(doc["rows"], [[1.5, "Paris", "yes", "a, quoted"],
                                       [None, "Berlin", "no", "b"],
                                       [3, None, "yes", "c"]])
        self.assertEqual(self.ok("datasets", "head", "small")["rows"][0][0], 9.5)  # latest
        self.assertEqual(len(self.ok("datasets", "head", "small", "-n", "100")["rows"]), 4)

    def test_table_shows_na_and_csv_shows_empty(self):
        table = self.ok("datasets", "head", "small@1", json_mode=False).stdout.splitlines()
        self.assertEqual(table[0].split(), ["x", "city", "flag", "note"])
        self.assertIn("NA", table[2].split())  # x of row 2
        self.assertEqual(len(table), 5)
        rows = list(csv.reader(io.StringIO(
            self.ok("-o", "csv", "datasets", "head", "small@1", json_mode=False).stdout)))
        self.assertEqual(rows[0], ["x", "city", "flag", "note"])
        self.assertEqual(rows[1], ["1.5", "Paris", "yes", "a, quoted"])
        self.assertEqual(rows[2], ["", "Berlin", "no", "b"])
        self.assertEqual(rows[3], ["3", "", "yes", "c"])
        self.assertEqual(rows[4], ["-4.25", "Paris", "", "d"])

    def test_default_ten_rows_match_the_file(self):
        doc = self.ok("datasets", "head", "salaries")
        header, rows = harness.read_csv(self.csv_path)
        self.assertEqual(doc["columns"], header)
        self.assertEqual(len(doc["rows"]), 10)
        for got, want in zip(doc["rows"], rows[:10]):
            for g, w in zip(got, want):
                if harness.is_missing(w):
                    self.assertIsNone(g)
                elif isinstance(g, float) or isinstance(g, int):
                    self.assertAlmostEqual(g, float(w), delta=1e-12 * max(1, abs(float(w))))
                else:
                    self.assertEqual(g, w)

    def test_errors(self):
        self.assertError("NOT_FOUND", "datasets", "head", "nope")
        self.assertError("NOT_FOUND", "datasets", "head", "small@9")
        self.assertError("INVALID_ARGUMENT", "datasets", "head", "small", "-n", "0")
        self.assertError("INVALID_ARGUMENT", "datasets", "head", "small", "-n", "20000")
        self.assertError("INVALID_ARGUMENT", "datasets", "head", "bad/name")



class Delete(harness.ServerTestCase):

    def blob_files(self):
        root = os.path.join(self.server.data_dir, "blobs", "datasets")
        return sorted(os.listdir(root)) if os.path.isdir(root) else []

    def test_delete_refused_while_a_model_names_it_then_allowed_for_the_rest(self):
        self.upload_salaries()
        run = self.submit("salary ~ years_code")  # on salaries@1
        self.ok("models", "register", "salary", "--run", run["id"])
        with open(os.path.join(self.work_dir, "v2.csv"), "w") as f:
            f.write("salary,years_code\n1,2\n3,4\n5,7\n")
        self.assertEqual(self.ok("datasets", "upload", "v2.csv", "--name", "salaries")["version"], 2)
        self.assertEqual(len(self.blob_files()), 2)

        message = self.assertError("FAILED_PRECONDITION", "datasets", "delete", "salaries")
        self.assertIn("model salary version 1", message)
        self.assertEqual([d["version"] for d in self.ok("datasets", "list")["datasets"]], [1, 2])
        self.assertEqual(len(self.blob_files()), 2)

        doc = self.ok("datasets", "delete", "salaries@2")
        self.assertEqual(doc, {"name": "salaries", "deleted_versions": [2]})
        self.assertEqual(len(self.blob_files()), 1)
        self.assertError("NOT_FOUND", "datasets", "show", "salaries@2")
        self.assertError("NOT_FOUND", "datasets", "delete", "salaries@2")
        self.assertEqual(self.ok("datasets", "show", "salaries")["version"], 1)
        # The same bytes again get a new number, never the deleted one.
        self.assertEqual(self.ok("datasets", "upload", "v2.csv", "--name", "salaries")["version"], 3)

    def test_delete_errors(self):
        self.assertError("NOT_FOUND", "datasets", "delete", "nope")
        self.assertError("INVALID_ARGUMENT", "datasets", "delete", "bad/name")


class LongUpload(harness.ServerTestCase):
    """An upload of several row blocks (65 536 rows each) stored as columns: a column that looks
    numeric until a late row is text for every row, its earlier cells read back as written."""

    ROWS = 150_000

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        try:
            path = os.path.join(cls.work_dir, "long.csv")
            with open(path, "w", newline="") as f:
                f.write("code,amount,city\r\n")
                for r in range(cls.ROWS):
                    code = "A-17" if r == cls.ROWS - 2 else "%03d" % (r % 500)
                    city = '"Rio de Janeiro, RJ"' if r % 7 == 0 else "Lyon"
                    f.write("%s,%d.25,%s\n" % (code, r, city))
            cls.version = cls.ok("datasets", "upload", "long.csv", "--name", "long")
        except BaseException:
            cls.tearDownClass()
            raise

    def test_types_counts_and_late_text(self):
        self.assertEqual(self.version["rows"], self.ROWS)
        types = {c["name"]: c["type"] for c in self.version["columns"]}
        self.assertEqual(types, {"code": "categorical", "amount": "numeric", "city": "categorical"})
        described = {c["name"]: c for c in self.ok("datasets", "describe", "long")["columns"]}
        levels = {lv["level"]: lv["count"] for lv in described["code"]["levels"]}
        self.assertEqual(len(levels), 501)  # 000..499 and A-17
        self.assertEqual(levels["A-17"], 1)
        self.assertEqual(levels["007"], 300)  # leading zeros kept: the cells are text
        self.assertEqual(described["amount"]["max"], self.ROWS - 1 + 0.25)
        cities = {lv["level"]: lv["count"] for lv in described["city"]["levels"]}
        self.assertEqual(cities["Rio de Janeiro, RJ"], (self.ROWS + 6) // 7)

    def test_head_reads_the_stored_columns(self):
        rows = self.ok("datasets", "head", "long", "-n", "3")["rows"]
        self.assertEqual(rows, [["000", 0.25, "Rio de Janeiro, RJ"], ["001", 1.25, "Lyon"],
                                ["002", 2.25, "Lyon"]])

    def test_stored_as_one_column_file_and_no_scratch_left(self):
        blobs = os.path.join(self.data_dir, "blobs")
        files = sorted(os.path.relpath(os.path.join(d, f), blobs)
                       for d, _, names in os.walk(blobs) for f in names)
        self.assertEqual(files, ["datasets/1.cols"])


if __name__ == "__main__":
    harness.main()
