#!/usr/bin/env python3
"""The SPEC §1 / README quickstart, verbatim and in order, against the real server and CLI:
once with `-o json` checking every value, once in the default table mode on another fresh
data directory checking that every line succeeds and prints something."""

import math
import os
import statistics
import sys
import unittest

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import coefficients  # noqa: E402

METRIC_KEYS = ["r_squared", "adj_r_squared", "f_statistic", "f_p_value", "log_likelihood",
               "aic", "bic", "rmse", "mae", "test_rmse", "test_mae", "test_r_squared"]
COEF_KEYS = ["term", "estimate", "std_error", "t_value", "p_value", "ci_lower", "ci_upper"]
EXPECTED_TYPES = {
    "salary": "numeric", "years_code": "numeric", "country": "categorical", "remote": "boolean",
    "education": "categorical", "company_size": "numeric", "age": "numeric",
}
FORMULAS = [
    "salary ~ years_code",
    "salary ~ years_code + country + remote",
    "salary ~ years_code + I(years_code^2) + country + remote",
]


def close(a, b, rel=1e-9, abs_tol=1e-9):
    return math.isclose(a, b, rel_tol=rel, abs_tol=abs_tol)


class QuickstartJson(harness.ServerTestCase):
    """Each step is one test method; they run in name order and share state through `out`."""

    out = {}

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.commands = harness.quickstart_commands()
        cls.step = 0
        cls.values = harness.column_values(cls.csv_path)

    def run_next(self, *expect_prefix):
        """Runs the next quickstart line verbatim; returns its JSON document."""
        cls = type(self)
        argv = cls.commands[cls.step]
        cls.step += 1
        self.assertEqual(tuple(argv[:len(expect_prefix)]), expect_prefix,
                         "quickstart out of order (an earlier step failed?)")
        doc = self.ok(*argv)
        cls.out[cls.step] = doc
        return doc

    def test_00_quickstart_has_14_lines(self):
        self.assertEqual(len(self.commands), 14)

    def test_01_upload(self):
        doc = self.run_next("datasets", "upload")
        self.assertEqual(doc["name"], "salaries")
        self.assertEqual(doc["version"], 1)
        self.assertEqual(doc["rows"], self.gen.DEFAULT_ROWS)
        self.assertEqual(doc["rows"], 20000)
        self.assertRegex(doc["sha256"], r"^[0-9a-f]{64}$")
        cols = doc["columns"]
        self.assertEqual([c["name"] for c in cols], self.gen.COLUMNS)
        for c in cols:
            self.assertEqual(c["type"], EXPECTED_TYPES[c["name"]], c)
            expected_missing = sum(harness.is_missing(v) for v in self.values[c["name"]])
            self.assertEqual(c["missing"], expected_missing, c)
        self.assertEqual(next(c for c in cols if c["name"] == "salary")["missing"], 0)
        self.assertGreater(next(c for c in cols if c["name"] == "years_code")["missing"], 100)

    def test_02_describe(self):
        doc = self.run_next("datasets", "describe")
        self.assertEqual(doc["name"], "salaries")
        self.assertEqual(doc["version"], 1)
        self.assertEqual(doc["rows"], 20000)
        cols = {c["name"]: c for c in doc["columns"]}
        self.assertEqual(list(cols), self.gen.COLUMNS)
        for name, c in cols.items():
            cells = self.values[name]
            present = [v for v in cells if not harness.is_missing(v)]
            self.assertEqual(c["type"], EXPECTED_TYPES[name], c)
            self.assertEqual(c["missing"], len(cells) - len(present), c)
            self.assertEqual(c["count"], len(present), c)
            if c["type"] == "numeric":
                xs = sorted(float(v) for v in present)
                self.assertTrue(close(c["mean"], statistics.fmean(xs)), (c, statistics.fmean(xs)))
                self.assertTrue(close(c["sd"], statistics.stdev(xs), rel=1e-7),
                                ("sd should be the sample sd (n-1)", c, statistics.stdev(xs)))
                self.assertEqual(c["min"], xs[0], c)
                self.assertEqual(c["max"], xs[-1], c)
                self.assertTrue(close(c["median"], statistics.median(xs)), (c, statistics.median(xs)))
                self.assertLessEqual(c["min"], c["q1"])
                self.assertLessEqual(c["q1"], c["median"])
                self.assertLessEqual(c["median"], c["q3"])
                self.assertLessEqual(c["q3"], c["max"])
                # R's default quantile (type 7)
                for key, p in (("q1", 0.25), ("q3", 0.75)):
                    h = (len(xs) - 1) * p
                    q = xs[int(h)] + (h - int(h)) * (xs[min(int(h) + 1, len(xs) - 1)] - xs[int(h)])
                    self.assertTrue(close(c[key], q), (key, c, q))
            elif c["type"] == "categorical":
                levels = c["levels"]
                self.assertTrue(levels, c)
                counts = {}
                for v in present:
                    counts[v] = counts.get(v, 0) + 1
                for lv in levels:
                    self.assertEqual(lv["count"], counts.get(lv["level"]), (name, lv))
                # top levels: sorted by count, the most frequent first
                self.assertEqual(levels[0]["count"], max(counts.values()), (name, levels))
        self.assertEqual({lv["level"] for lv in cols["country"]["levels"]},
                         set(self.gen.COUNTRY_EFFECT))

    def check_run(self, doc, run_id, formula):
        self.assertEqual(doc["id"], run_id)
        self.assertEqual(doc["status"], "SUCCEEDED", doc.get("error"))
        self.assertEqual(doc["formula"], formula)
        self.assertEqual(doc["dataset"], "salaries@1")
        for key in METRIC_KEYS:
            self.assertIn(key, doc["metrics"], "metric %s missing from %s" % (key, run_id))
            self.assertTrue(math.isfinite(doc["metrics"][key]), (key, doc["metrics"][key]))
        self.assertTrue(doc["coefficients"])
        for coef in doc["coefficients"]:
            for key in COEF_KEYS:
                self.assertIn(key, coef)
            self.assertLessEqual(coef["ci_lower"], coef["estimate"])
            self.assertLessEqual(coef["estimate"], coef["ci_upper"])
        self.assertEqual(doc["coefficients"][0]["term"], "(Intercept)")
        self.assertGreater(doc["sigma"], 0)
        self.assertGreater(doc["n_obs"], 0)
        self.assertEqual(doc["df_residual"], doc["n_obs"] - len(doc["coefficients"]))
        share = doc["n_test"] / (20000 - doc["rows_dropped"])
        self.assertTrue(0.18 <= share <= 0.22, ("--test-fraction 0.2", doc["n_test"], doc["rows_dropped"]))
        # every row is accounted for: either the split comes first and rows_dropped counts the
        # training rows dropped (train share = n_obs + rows_dropped), or the drop comes first and
        # n_obs + n_test + rows_dropped = all rows
        counts = (doc["n_obs"], doc["n_test"], doc["rows_dropped"])
        self.assertTrue(doc["n_obs"] + doc["rows_dropped"] == 16000
                        or sum(counts) == 20000, ("n_obs, n_test, rows_dropped", counts))
        self.assertTrue(close(doc["metrics"]["rmse"] ** 2 * doc["n_obs"],
                              doc["sigma"] ** 2 * doc["df_residual"], rel=1e-6),
                        "rmse and sigma disagree")

    def test_03_run_linear(self):
        doc = self.run_next("runs", "submit")
        self.check_run(doc, "r1", FORMULAS[0])
        # --missing drop (the default): rows with a missing years_code are dropped and counted
        self.assertGreater(doc["rows_dropped"], 0)
        self.assertEqual(set(coefficients(doc)), {"(Intercept)", "years_code"})

    def test_04_run_country_remote(self):
        doc = self.run_next("runs", "submit")
        self.check_run(doc, "r2", FORMULAS[1])
        self.assertEqual(doc["rows_dropped"], 0, "--missing mean drops no rows")
        terms = set(coefficients(doc))
        self.assertIn("countryGermany", terms)
        self.assertIn("remoteyes", terms)
        self.assertEqual(len(terms), 1 + 1 + 5 + 1)

    def test_05_run_quadratic(self):
        doc = self.run_next("runs", "submit")
        self.check_run(doc, "r3", FORMULAS[2])
        coef = coefficients(doc)
        self.assertEqual(len(coef), 1 + 2 + 5 + 1)
        g = self.gen
        for term, true, rel in (("years_code", g.B1, 0.10), ("I(years_code^2)", g.B2, 0.15),
                                ("remoteyes", g.REMOTE_EFFECT, 0.10)):
            c = coef[term]
            self.assertLessEqual(abs(c["estimate"] - true), rel * abs(true) + 3 * c["std_error"],
                                 (term, c, true))
            self.assertLess(c["p_value"], 1e-6, (term, c))
        self.assertLessEqual(abs(doc["sigma"] - g.NOISE_SD), 0.1 * g.NOISE_SD, doc["sigma"])
        r2 = self.out[4]
        self.assertLess(doc["metrics"]["test_rmse"], r2["metrics"]["test_rmse"],
                        "the quadratic model must have a lower test RMSE (the promotion gate)")
        self.assertLess(r2["metrics"]["test_rmse"], self.out[3]["metrics"]["test_rmse"])

    def test_06_compare(self):
        doc = self.run_next("runs", "compare")
        runs = doc["runs"]
        self.assertEqual([r["id"] for r in runs], ["r1", "r2", "r3"])
        for r, formula, step in zip(runs, FORMULAS, (3, 4, 5)):
            self.assertEqual(r["formula"], formula)
            for key in ("test_rmse", "r_squared", "aic"):
                self.assertTrue(close(r["metrics"][key], self.out[step]["metrics"][key]), (r["id"], key))

    def test_07_show(self):
        doc = self.run_next("runs", "show")
        self.check_run(doc, "r3", FORMULAS[2])
        self.assertEqual(doc["coefficients"], self.out[5]["coefficients"],
                         "runs show r3 must equal the final document of runs submit --watch")
        self.assertEqual(doc["metrics"], self.out[5]["metrics"])

    def test_08_register_v1(self):
        doc = self.run_next("models", "register")
        self.assertEqual((doc["name"], doc["version"], doc["run"]), ("salary", 1, "r2"))

    def test_09_register_v2(self):
        doc = self.run_next("models", "register")
        self.assertEqual((doc["name"], doc["version"], doc["run"]), ("salary", 2, "r3"))
        show = self.ok("models", "show", "salary")
        self.assertEqual(show["name"], "salary")
        self.assertEqual([(v["version"], v["run"], v["aliases"]) for v in show["versions"]],
                         [(1, "r2", []), (2, "r3", [])])
        self.assertTrue(close(show["versions"][1]["metrics"]["test_rmse"],
                              self.out[5]["metrics"]["test_rmse"]))
        listing = self.ok("models", "list")
        self.assertEqual([m["name"] for m in listing["models"]], ["salary"])

    def check_move(self, doc, action, from_v, to_v, reason):
        self.assertEqual((doc["name"], doc["alias"], doc["from_version"], doc["to_version"]),
                         ("salary", "production", from_v, to_v), doc)
        self.assertEqual(doc["action"], action)
        self.assertEqual(doc["reason"], reason)
        self.assertFalse(doc["forced"])
        self.assertTrue(doc["actor"])
        self.assertTrue(doc["time"])

    def aliases(self):
        show = self.ok("models", "show", "salary")
        return {v["version"]: v["aliases"] for v in show["versions"]}

    def test_10_promote_v1(self):
        doc = self.run_next("models", "promote")
        self.check_move(doc, "promote", None, 1, "first production model")
        self.assertEqual(self.aliases(), {1: ["production"], 2: []})

    def test_11_promote_v2(self):
        doc = self.run_next("models", "promote")
        self.check_move(doc, "promote", 1, 2, "quadratic experience term")
        self.assertEqual(self.aliases(), {1: [], 2: ["production"]})

    def test_12_predict(self):
        doc = self.run_next("predict")
        self.assertEqual(doc["model"], "salary")
        self.assertEqual(doc["version"], 2)
        self.assertEqual(len(doc["predictions"]), 1)
        p = doc["predictions"][0]
        b = {t: c["estimate"] for t, c in coefficients(self.out[7]).items()}
        expected = (b["(Intercept)"] + 5 * b["years_code"] + 25 * b["I(years_code^2)"]
                    + b["countryGermany"] + b["remoteyes"])
        self.assertTrue(close(p["value"], expected, rel=1e-6), (p, expected))
        self.assertLess(p["lower"], p["value"])
        self.assertLess(p["value"], p["upper"])
        # a 95 % prediction interval is about +-1.96 sigma wide
        half = (p["upper"] - p["lower"]) / 2
        self.assertTrue(1.9 * self.out[7]["sigma"] < half < 2.1 * self.out[7]["sigma"], (p, half))

    def test_13_rollback(self):
        doc = self.run_next("models", "rollback")
        self.check_move(doc, "rollback", 2, 1, "p99 error up")
        self.assertEqual(self.aliases(), {1: ["production"], 2: []})
        pred = self.ok("predict", "salary", "--row", "years_code=5,country=Germany,remote=yes")
        self.assertEqual(pred["version"], 1)

    def test_14_history(self):
        doc = self.run_next("models", "history")
        self.assertEqual(doc["name"], "salary")
        got = [(e["alias"], e["from_version"], e["to_version"], e["action"], e["reason"], e["forced"])
               for e in doc["entries"]]
        self.assertEqual(got, [
            ("production", None, 1, "promote", "first production model", False),
            ("production", 1, 2, "promote", "quadratic experience term", False),
            ("production", 2, 1, "rollback", "p99 error up", False),
        ])
        for e in doc["entries"]:
            self.assertTrue(e["actor"])
            self.assertTrue(e["time"])
        times = [e["time"] for e in doc["entries"]]
        self.assertEqual(times, sorted(times))
        # the history entries are the documents promote/rollback returned
        for entry, step in zip(doc["entries"], (10, 11, 13)):
            self.assertEqual((entry["actor"], entry["time"]), (self.out[step]["actor"], self.out[step]["time"]))

    def test_15_upload_again_is_same_version(self):
        doc = self.ok("datasets", "upload", "salaries.csv", "--name", "salaries")
        self.assertEqual((doc["version"], doc["sha256"]), (1, self.out[1]["sha256"]))
        self.assertEqual([d["name"] for d in self.ok("datasets", "list")["datasets"]], ["salaries"])


    def test_16_predict_input_file_matches_rows(self):
        with open(os.path.join(self.work_dir, "new.csv"), "w") as f:
            f.write("years_code,country,remote\n5,Germany,yes\n30,India,no\n")
        by_file = self.ok("predict", "salary@2", "--input", "new.csv")
        by_rows = self.ok("predict", "salary@2", "--row", "years_code=5,country=Germany,remote=yes",
                          "--row", "years_code=30,country=India,remote=no")
        self.assertEqual(by_file["version"], 2)
        self.assertEqual([p["value"] for p in by_file["predictions"]],
                         [p["value"] for p in by_rows["predictions"]])
        self.assertEqual(by_file["predictions"][0]["value"], self.out[12]["predictions"][0]["value"],
                         "same model, same row: same bits")

    def test_17_forced_promotion_is_recorded(self):
        self.ok("models", "promote", "salary", "2", "--alias", "champion")
        self.assertError("FAILED_PRECONDITION", "models", "promote", "salary", "1", "--alias", "champion")
        doc = self.ok("models", "promote", "salary", "1", "--alias", "champion", "--force", "--reason", "drill")
        self.assertEqual((doc["alias"], doc["from_version"], doc["to_version"], doc["forced"]),
                         ("champion", 2, 1, True))
        entries = self.ok("models", "history", "salary", "--alias", "champion")["entries"]
        self.assertEqual([(e["from_version"], e["to_version"], e["forced"]) for e in entries],
                         [(None, 2, False), (2, 1, True)])


class QuickstartTable(harness.ServerTestCase):
    """The same lines in the default table mode on a fresh data directory."""

    json_mode = False

    def test_quickstart_table_mode(self):
        for argv in harness.quickstart_commands():
            r = self.cli(*argv)
            self.assertEqual(r.returncode, 0, r.describe())
            self.assertTrue(r.stdout.strip(), "no output: " + r.describe())
            self.assertFalse(r.stdout.lstrip().startswith("{"), "table mode printed JSON: " + r.describe())


class ReadmeQuickstart(unittest.TestCase):
    def test_readme_has_the_quickstart_verbatim(self):
        readme = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(harness.args().generator))),
                              "README.md")
        with open(readme, encoding="utf-8") as f:
            self.assertIn(harness.QUICKSTART.strip(), f.read())


if __name__ == "__main__":
    harness.main()
