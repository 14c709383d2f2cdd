#!/usr/bin/env python3
"""Training runs in depth, through the real server and CLI: search (filter, order-by, pages),
-o csv, watch streaming to completion, cancel of a running fit, 8 concurrent submits on a
2-worker pool, plots, and the interrupted-after-restart rule (kill -9 during a fit)."""

import csv
import io
import json
import os
import random
import sys
import threading
import time
import xml.etree.ElementTree as ET

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

TERMINAL = {"SUCCEEDED", "FAILED", "CANCELLED"}
SVG = "{http://www.w3.org/2000/svg}"

# A fit that would take minutes (1000 k-means++ runs of 40 clusters on 60 000 rows) but asks to
# keep going every Lloyd iteration, so a cancel or a stop ends it at once.
SLOW_RUN = ("--model", "kmeans", "--formula", "~ x1 + x2 + x3", "--param", "k=40",
            "--param", "n_init=1000")
# A fit of a fraction of a second, for the queue test.
MEDIUM_FORMULA = "y ~ x1 + x2 + x3 + h"


def write_big_csv(path, rows=60000, levels=300, seed=11):
    rng = random.Random(seed)
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["y", "x1", "x2", "x3", "g", "h"])
        for _ in range(rows):
            x1, x2, x3 = rng.random(), rng.gauss(0, 1), rng.uniform(-5, 5)
            g = rng.randrange(levels)
            h = rng.randrange(40)
            y = 3 + 2 * x1 - x2 + 0.5 * x3 + (g % 7) * 0.3 + (h % 5) * 0.2 + rng.gauss(0, 1)
            w.writerow(["%.6f" % y, "%.6f" % x1, "%.6f" % x2, "%.6f" % x3, "g%03d" % g, "h%02d" % h])


class Runs(harness.ServerTestCase):
    server_args = ("--workers", "2")

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        try:
            cls.upload_salaries()
            cls.r1 = cls.submit("salary ~ years_code")                # r1
            cls.r2 = cls.submit(harness.LINEAR)                       # r2
            cls.r3 = cls.submit(harness.QUADRATIC)                    # r3
            cls.r4 = cls.submit(harness.LINEAR, seed=8)               # r4
            write_big_csv(os.path.join(cls.work_dir, "big.csv"))
            cls.ok("datasets", "upload", "big.csv", "--name", "big", timeout=300)
        except BaseException:
            cls.tearDownClass()
            raise

    def ids(self, *argv):
        return [r["id"] for r in self.ok("runs", "list", *argv)["runs"]]

    def rmse(self, run):
        return run["metrics"]["test_rmse"]

    # -- search ---------------------------------------------------------------------------

    def test_1_filter_and_or_parentheses(self):
        r1, r2, r3, r4 = self.r1, self.r2, self.r3, self.r4
        cut = (self.rmse(r1) + min(self.rmse(r2), self.rmse(r3))) / 2  # r1 is worst
        self.assertGreater(self.rmse(r1), cut)
        base = "attributes.run_id IN ('r1','r2','r3','r4') and "
        self.assertEqual(sorted(self.ids("--filter", base + "metrics.test_rmse < %r and params.model = 'ols'" % cut)),
                         ["r2", "r3", "r4"])
        self.assertEqual(sorted(self.ids("--filter", "metrics.test_rmse >= %r" % cut)), ["r1"])
        # and binds tighter than or: r1 or (seed 8 and linear) -> r1, r4
        expr = ("attributes.run_id = 'r1' or params.seed = 8 and params.formula = '%s'" % harness.LINEAR)
        self.assertEqual(sorted(self.ids("--filter", expr)), ["r1", "r4"])
        # parentheses change it: (r1 or seed 8) and linear -> r4
        expr = ("(attributes.run_id = 'r1' or params.seed = 8) and params.formula = '%s'" % harness.LINEAR)
        self.assertEqual(self.ids("--filter", expr), ["r4"])
        self.assertEqual(sorted(self.ids("--filter", "params.formula LIKE '%I(years_code^2)%' OR "
                                                     "attributes.run_id = 'r1'")), ["r1", "r3"])
        self.assertEqual(sorted(self.ids("--filter", "params.formula ILIKE 'SALARY ~ YEARS_CODE' AND "
                                                     "ATTRIBUTES.STATUS = 'succeeded'")), ["r1"])
        self.assertEqual(sorted(self.ids("--filter", "params.dataset = 'salaries@1' and "
                                                     "params.missing = 'mean' and attributes.run_id "
                                                     "not in ('r2', 'r3')")), ["r1", "r4"])

    def test_1_filter_error_names_position(self):
        msg = self.assertError("INVALID_ARGUMENT", "runs", "list", "--filter",
                               "metrics.test_rmse < 5000 and (params.model = 'ols'")
        self.assertIn("position 51", msg)
        msg = self.assertError("INVALID_ARGUMENT", "runs", "list", "--filter", "test_rmse < 5")
        self.assertIn("position 1", msg)
        msg = self.assertError("INVALID_ARGUMENT", "runs", "list", "--order-by", "metrics.rmse sideways")
        self.assertIn("position 14", msg)

    def test_1_order_by_and_pages(self):
        only = "attributes.run_id IN ('r1','r2','r3','r4')"
        ordered = self.ids("--filter", only, "--order-by", "metrics.test_rmse ASC")
        by_rmse = sorted([self.r1, self.r2, self.r3, self.r4], key=self.rmse)
        self.assertEqual(ordered, [r["id"] for r in by_rmse])
        self.assertEqual(self.ids("--filter", only, "--order-by", "attributes.created_at DESC"),
                         ["r4", "r3", "r2", "r1"])
        self.assertEqual(self.ids("--filter", only, "--order-by",
                                  "params.seed DESC, attributes.run_id asc"), ["r4", "r1", "r2", "r3"])
        page = self.ok("runs", "list", "--filter", only, "--order-by", "attributes.run_id",
                       "--limit", "3")
        self.assertEqual([r["id"] for r in page["runs"]], ["r1", "r2", "r3"])
        token = page["next_page_token"]
        page2 = self.ok("runs", "list", "--filter", only, "--order-by", "attributes.run_id",
                        "--limit", "3", "--page-token", token)
        self.assertEqual([r["id"] for r in page2["runs"]], ["r4"])
        self.assertNotIn("next_page_token", page2)
        self.assertError("INVALID_ARGUMENT", "runs", "list", "--page-token", "nonsense")

    # -- csv ------------------------------------------------------------------------------

    def test_2_csv_everywhere(self):
        def rows(*argv):
            r = self.ok("-o", "csv", *argv, json_mode=False)
            return list(csv.reader(io.StringIO(r.stdout)))

        coef = rows("runs", "show", "r3")
        self.assertEqual(coef[0], ["term", "estimate", "std_error", "t_value", "p_value",
                                   "ci_lower", "ci_upper", "aliased"])
        want = {c["term"]: c for c in self.r3["coefficients"]}
        self.assertEqual([row[0] for row in coef[1:]], [c["term"] for c in self.r3["coefficients"]])
        for row in coef[1:]:
            self.assertAlmostEqual(float(row[1]), want[row[0]]["estimate"],
                                   delta=1e-9 * abs(want[row[0]]["estimate"]))
        listed = rows("runs", "list", "--order-by", "attributes.run_id", "--limit", "2")
        self.assertEqual(listed[0][0], "id")
        self.assertEqual([r[0] for r in listed[1:]], ["r1", "r2"])
        compare = rows("runs", "compare", "r1", "r2")
        self.assertEqual(compare[0], ["field", "r1", "r2"])
        self.assertIn("formula", [r[0] for r in compare])
        self.assertEqual(rows("datasets", "list")[0][0], "dataset")
        self.assertEqual(rows("datasets", "describe", "salaries")[0][:2], ["column", "type"])
        self.assertEqual(rows("experiments", "list")[0], ["name", "created_by", "created_at"])
        sub = rows("runs", "submit", "--dataset", "salaries", "--formula", "salary ~ years_code")
        self.assertEqual(sub[0], ["id", "status"])
        harness.wait_for_status(self, sub[1][0], TERMINAL)
        self.assertEqual(rows("server", "status")[0], ["field", "value"])

    # -- watch, plots ---------------------------------------------------------------------

    def test_3_watch_streams_to_completion(self):
        sub = self.ok("runs", "submit", "--dataset", "big", "--formula", MEDIUM_FORMULA,
                      "--test-fraction", "0.2", "--seed", "1")
        r = self.cli("runs", "watch", sub["id"])
        self.assertEqual(r.returncode, 0, r.describe())
        run = r.json
        self.assertEqual(run["status"], "SUCCEEDED")
        self.assertIn("test_rmse", run["metrics"])
        # progress lines streamed on stderr, ending with the success line at 100%
        lines = [l for l in r.stderr.splitlines() if l.startswith("[" + sub["id"])]
        self.assertTrue(any("design matrix" in l for l in lines), r.stderr)
        self.assertTrue(any("fit: n=" in l for l in lines), r.stderr)
        # watching a finished run returns it at once
        again = self.ok("runs", "watch", sub["id"])
        self.assertEqual(again["status"], "SUCCEEDED")

    def test_3_plots(self):
        n_obs = self.r3["n_obs"]
        for kind in ("residuals", "actual", "coefficients"):
            out = os.path.join(self.work_dir, "r3-%s.svg" % kind)
            doc = self.ok("runs", "plot", "r3", "--kind", kind, "--out", out)
            root = ET.parse(out).getroot()  # raises on malformed XML
            self.assertEqual(root.tag, SVG + "svg")
            circles = root.iter(SVG + "circle")
            count = sum(1 for _ in circles)
            texts = [t.text or "" for t in root.iter(SVG + "text")]
            self.assertTrue(any("r3" in t for t in texts), texts[:3])  # title
            if kind == "coefficients":
                terms = [c["term"] for c in self.r3["coefficients"]
                         if c["term"] != "(Intercept)" and not c["aliased"]]
                self.assertEqual(count, len(terms))
                for term in terms:
                    self.assertIn(term, texts)
            else:
                self.assertEqual(count, min(n_obs, 2000))
                self.assertIn("Fitted values", texts)
            self.assertEqual(doc["points"], count)
        out = os.path.join(self.work_dir, "with-intercept.svg")
        self.ok("runs", "plot", "r1", "--kind", "coefficients", "--intercept", "--out", out)
        self.assertEqual(sum(1 for _ in ET.parse(out).getroot().iter(SVG + "circle")), 2)
        self.assertError("NOT_FOUND", "runs", "plot", "r999", "--kind", "actual", "--out", out)
        self.assertError("INVALID_ARGUMENT", "runs", "plot", "r1", "--kind", "pie", "--out", out)

    # -- queue ----------------------------------------------------------------------------

    def test_4_cancel_running_fit(self):
        sub = self.ok("runs", "submit", "--dataset", "big", *SLOW_RUN)
        run = harness.wait_for_status(self, sub["id"], {"RUNNING"} | TERMINAL, poll=0.02)
        self.assertEqual(run["status"], "RUNNING", run)
        t0 = time.time()
        cancelled = self.ok("runs", "cancel", sub["id"])
        self.assertIn(cancelled["status"], {"RUNNING", "CANCELLED"})
        run = harness.wait_for_status(self, sub["id"], TERMINAL)
        self.assertEqual(run["status"], "CANCELLED", run)
        self.assertIn("cancel", run["error"].lower())
        took = time.time() - t0
        print("cancel took effect in %.2fs" % took, file=sys.stderr)
        self.assertLess(took, 10, "the fit ran on after the cancel")  # uncancelled: minutes
        self.assertError("FAILED_PRECONDITION", "runs", "cancel", sub["id"])

    def test_5_eight_concurrent_submits_on_two_workers(self):
        results = [None] * 8
        max_seen = [0]
        stop = threading.Event()

        def poll_status():
            while not stop.is_set():
                st = self.cli("server", "status")
                if st.returncode == 0:
                    max_seen[0] = max(max_seen[0], st.json["running_runs"])
                time.sleep(0.05)

        def submit(i):
            results[i] = self.cli("runs", "submit", "--dataset", "big", "--formula", MEDIUM_FORMULA,
                                  "--seed", str(i), "--test-fraction", "0.1", "--watch", timeout=280)

        poller = threading.Thread(target=poll_status)
        poller.start()
        threads = [threading.Thread(target=submit, args=(i,)) for i in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        stop.set()
        poller.join()
        runs = []
        for r in results:
            self.assertEqual(r.returncode, 0, r.describe())
            self.assertEqual(r.json["status"], "SUCCEEDED")
            runs.append(r.json)
        self.assertEqual(len({r["id"] for r in runs}), 8)
        self.assertLessEqual(max_seen[0], 2)
        # never more than 2 RUNNING at once, from the runs' own start and finish times
        events = []
        for r in runs:
            events.append((harness.parse_time(r["started_at"]), 1))
            events.append((harness.parse_time(r["finished_at"]), -1))
        events.sort(key=lambda e: (e[0], e[1]))  # a finish at the same ms counts first
        running = peak = 0
        for _, delta in events:
            running += delta
            peak = max(peak, running)
        self.assertLessEqual(peak, 2, events)
        self.assertGreaterEqual(peak, 1)

    # -- restart (last: it kills the server) ----------------------------------------------

    def test_6_folds_and_stepwise(self):
        base = ("runs", "submit", "--dataset", "salaries", "--missing", "mean")
        cv = self.ok(*base, "--formula", harness.LINEAR, "--folds", "5", "--seed", "3", "--watch")
        self.assertEqual(cv["status"], "SUCCEEDED", json.dumps(cv)[:2000])
        for key in ("cv_rmse", "cv_mae", "cv_r_squared"):
            self.assertIn(key, cv["metrics"])
        self.assertNotIn("test_rmse", cv["metrics"])
        self.assertEqual(cv["params"].get("cv_folds"), "5")
        self.assertEqual(sum(1 for l in cv["log"] if l.startswith("fold ")), 5)
        again = self.ok(*base, "--formula", harness.LINEAR, "--folds", "5", "--seed", "3", "--watch")
        self.assertEqual(again["metrics"]["cv_rmse"], cv["metrics"]["cv_rmse"])
        self.assertError("INVALID_ARGUMENT", *base, "--formula", harness.LINEAR, "--folds", "5",
                         "--test-fraction", "0.2", mentions=("exclusive",))
        self.assertError("INVALID_ARGUMENT", *base, "--formula", harness.LINEAR, "--folds", "1")
        step = self.ok(*base, "--formula", harness.QUADRATIC, "--select", "backward",
                       "--criterion", "bic", "--watch")
        self.assertEqual(step["status"], "SUCCEEDED", json.dumps(step)[:2000])
        self.assertEqual(step["params"].get("select"), "backward")
        self.assertEqual(step["params"].get("criterion"), "bic")
        self.assertTrue(any(l.startswith("Start: BIC=") for l in step["log"]), step["log"])
        self.assertTrue(any(l.startswith("selected_formula: salary ~") for l in step["log"]), step["log"])
        self.assertIn("step_bic", step["metrics"])
        # The registered version's lineage names the selected formula, not the scope searched.
        decoys = self.ok(*base, "--formula", harness.QUADRATIC + " + education + company_size",
                         "--select", "backward", "--criterion", "bic", "--watch")
        selected = next(l for l in decoys["log"] if l.startswith("selected_formula: "))
        selected = selected[len("selected_formula: "):].split("  (")[0]
        self.assertNotIn("company_size", selected)
        self.ok("models", "register", "stepped", "--run", decoys["id"])
        version = self.ok("models", "show", "stepped")["versions"][0]
        self.assertEqual(version["formula"], selected)
        self.assertError("INVALID_ARGUMENT", *base, "--formula", harness.LINEAR, "--model", "ridge",
                         "--select", "forward", mentions=("ols",))

    def test_9_kill9_during_fit_is_failed_interrupted(self):
        sub = self.ok("runs", "submit", "--dataset", "big", *SLOW_RUN)
        queued = self.ok("runs", "submit", "--dataset", "big", *SLOW_RUN, "--seed", "3")
        run = harness.wait_for_status(self, sub["id"], {"RUNNING"} | TERMINAL, poll=0.02)
        self.assertEqual(run["status"], "RUNNING", "the fit ended before kill -9: make it slower")
        self.server.kill()
        self.server.start()
        for rid in (sub["id"], queued["id"]):
            run = self.ok("runs", "show", rid)
            self.assertEqual(run["status"], "FAILED", run)
            self.assertIn("interrupted", run["error"].lower())
        self.assertEqual(self.ids("--filter", "attributes.status = 'RUNNING' or "
                                              "attributes.status = 'QUEUED'"), [])
        # and the server still trains
        after = self.ok("runs", "submit", "--dataset", "salaries", "--formula", "salary ~ years_code",
                        "--watch")
        self.assertEqual(after["status"], "SUCCEEDED")


if __name__ == "__main__":
    harness.main()
