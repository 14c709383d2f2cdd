#!/usr/bin/env python3
"""Durability: everything acknowledged survives a SIGTERM restart and a kill -9 restart on the
same data directory, and the server keeps counting run ids and model versions where it was."""

import glob
import os
import sqlite3
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

ROW = "years_code=5,country=Germany,remote=yes"
TERMINAL = {"SUCCEEDED", "FAILED", "CANCELLED"}


class Restart(harness.ServerTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        try:
            cls.upload_salaries()
            cls.submit(harness.LINEAR)      # r1
            cls.submit(harness.QUADRATIC)   # r2
            cls.ok("models", "register", "salary", "--run", "r1")
            cls.ok("models", "register", "salary", "--run", "r2")
            cls.ok("models", "promote", "salary", "1", "--reason", "first")
            cls.ok("models", "promote", "salary", "2", "--reason", "second")
            cls.before = cls.snapshot()
        except BaseException:
            cls.tearDownClass()
            raise

    @classmethod
    def snapshot(cls):
        """Everything a user can see, as JSON documents."""
        return {
            "datasets list": cls.ok("datasets", "list"),
            "datasets show": cls.ok("datasets", "show", "salaries"),
            "datasets describe": cls.ok("datasets", "describe", "salaries@1"),
            "runs list": cls.ok("runs", "list"),
            "runs show r1": cls.ok("runs", "show", "r1"),
            "runs show r2": cls.ok("runs", "show", "r2"),
            "models list": cls.ok("models", "list"),
            "models show": cls.ok("models", "show", "salary"),
            "models history": cls.ok("models", "history", "salary"),
            "predict": cls.ok("predict", "salary", "--row", ROW, "--intervals"),
            "predict @1": cls.ok("predict", "salary@1", "--row", ROW, "--intervals"),
        }

    def check_database(self):
        """With the server down: every SQLite file in the data directory passes
        PRAGMA integrity_check and is in WAL mode."""
        self.assertFalse(self.server.running())
        dbs = glob.glob(os.path.join(self.data_dir, "**", "*.db"), recursive=True)
        self.assertTrue(dbs, "no *.db file in the data directory")
        for path in dbs:
            con = sqlite3.connect(path)
            try:
                self.assertEqual(con.execute("PRAGMA integrity_check").fetchall(), [("ok",)], path)
                self.assertEqual(con.execute("PRAGMA journal_mode").fetchone()[0].lower(), "wal", path)
            finally:
                con.close()

    def check_same(self):
        after = self.snapshot()
        for key, doc in self.before.items():
            self.assertEqual(after[key], doc, "%s changed across the restart" % key)

    def test_1_sigterm_restart(self):
        self.assertEqual(self.before["predict"]["version"], 2)
        self.assertEqual(self.before["runs show r2"]["status"], "SUCCEEDED")
        rc = self.server.stop()
        self.assertEqual(rc, 0, "SIGTERM should stop the server cleanly; log:\n" + self.server.log())
        self.check_database()
        self.server.start()
        self.check_same()

    def test_2_kill9_idle_restart(self):
        self.server.kill()
        self.check_database()
        self.server.start()
        self.check_same()

    def test_3_counters_continue_and_new_writes_survive_kill9(self):
        run = self.submit(harness.LINEAR, seed=8)
        self.assertEqual(run["id"], "r3", "run ids continue after restarts")
        reg = self.ok("models", "register", "salary", "--run", "r3")
        self.assertEqual(reg["version"], 3, "versions continue after restarts")
        back = self.ok("models", "rollback", "salary", "--reason", "after restart")
        self.assertEqual((back["from_version"], back["to_version"]), (2, 1))
        self.server.kill()
        self.check_database()
        self.server.start()
        self.assertEqual(self.ok("runs", "show", "r3")["status"], "SUCCEEDED")
        show = self.ok("models", "show", "salary")
        self.assertEqual([(v["version"], v["aliases"]) for v in show["versions"]],
                         [(1, ["production"]), (2, []), (3, [])])
        hist = self.ok("models", "history", "salary")["entries"]
        self.assertEqual([(e["from_version"], e["to_version"], e["reason"]) for e in hist],
                         [(None, 1, "first"), (1, 2, "second"), (2, 1, "after restart")])
        self.assertEqual(self.ok("predict", "salary", "--row", ROW)["version"], 1)

    def test_4_kill9_during_training(self):
        """A run interrupted by kill -9 ends up terminal after the restart (FAILED with reason
        "interrupted" if it was running), never stuck RUNNING."""
        sub = self.ok("runs", "submit", "--dataset", "salaries", "--formula",
                      "salary ~ years_code + I(years_code^2) + country + remote + education + age",
                      "--missing", "median", "--test-fraction", "0.2", "--seed", "9")
        rid = sub["id"]
        self.assertIn(sub["status"], {"QUEUED", "RUNNING", "SUCCEEDED"})
        self.server.kill()
        self.server.start()
        deadline = time.time() + 60
        while True:
            run = self.ok("runs", "show", rid)
            if run["status"] in TERMINAL or time.time() > deadline:
                break
            time.sleep(0.2)
        self.assertIn(run["status"], TERMINAL, "run %s stuck in %s after restart" % (rid, run["status"]))
        if run["status"] == "FAILED":
            self.assertIn("interrupted", (run.get("error") or "").lower(), run)
        # and the server still works
        self.assertEqual(self.ok("datasets", "show", "salaries")["rows"], 20000)


if __name__ == "__main__":
    harness.main()
