"""Operations (SPEC §9) through the real binaries: --log-format json gives one JSON object a
line, with every RPC's request id, method, code, actor and duration; SIGTERM drains and ends a
running fit "interrupted", and its watcher sees the end."""

import json
import os
import signal
import subprocess
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from runs_test import SLOW_RUN, write_big_csv  # noqa: E402

RPC_FIELDS = {"time", "level", "logger", "msg", "request_id", "method", "code", "actor", "peer",
              "duration_ms"}


class Operations(harness.ServerTestCase):
    server_args = ("--log-format", "json", "--drain-seconds", "5")

    def log_lines(self, until):
        """The log's lines once one contains `until` (the log is flushed every second)."""
        deadline = time.time() + 5
        while True:
            with open(self.server.log_path, encoding="utf-8") as f:
                lines = [line for line in f.read().splitlines() if line.strip()]
            if any(until in line for line in lines) or time.time() > deadline:
                return lines
            time.sleep(0.1)

    def test_1_every_log_line_is_json_and_each_rpc_is_one_event(self):
        self.upload_salaries()
        self.assertError("NOT_FOUND", "runs", "show", "r404")
        events = []
        for line in self.log_lines(until="r404"):
            try:
                events.append(json.loads(line))
            except ValueError:
                self.fail("log line is not JSON: %r" % line)
        rpcs = [e for e in events if e.get("msg") == "rpc"]
        for e in rpcs:
            self.assertLessEqual(RPC_FIELDS, set(e), e)
            self.assertRegex(e["request_id"], r"^[0-9a-f]{16}$")
            self.assertGreaterEqual(e["duration_ms"], 0)
        upload = [e for e in rpcs if e["method"] == "/mlprod.v1.DatasetService/UploadDataset"]
        self.assertEqual(len(upload), 1, rpcs)
        self.assertEqual(upload[0]["code"], "OK")
        self.assertEqual(upload[0]["actor"], os.environ.get("USER") or upload[0]["actor"])
        missing = [e for e in rpcs if e["method"] == "/mlprod.v1.TrainingService/GetRun"]
        self.assertEqual(missing[-1]["code"], "NOT_FOUND")
        self.assertIn("r404", missing[-1]["error"])
        self.assertEqual(len({e["request_id"] for e in rpcs}), len(rpcs), "request ids repeat")

    def test_2_sigterm_interrupts_a_running_fit_and_its_watcher_sees_the_end(self):
        write_big_csv(os.path.join(self.work_dir, "big.csv"), rows=20000)
        self.ok("datasets", "upload", "big.csv", "--name", "big", timeout=300)
        sub = self.ok("runs", "submit", "--dataset", "big", *SLOW_RUN)
        harness.wait_for_status(self, sub["id"], {"RUNNING"}, poll=0.02)
        watcher = subprocess.Popen(
            [harness.args().cli_bin, "--server", self.server.address, "-o", "json", "runs",
             "watch", sub["id"]], cwd=self.work_dir, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True, env=harness._cli_env())
        time.sleep(0.5)  # the watch stream is in flight
        t0 = time.time()
        rc = self.server.stop()
        took = time.time() - t0
        self.assertEqual(rc, 0, self.server.log())
        self.assertLess(took, 5 + 3, "the stop took longer than --drain-seconds")
        out, err = watcher.communicate(timeout=30)
        # The watch ends with the run's final state: FAILED "interrupted" (exit 1, as for any
        # failed run), not with a broken stream.
        self.assertEqual(watcher.returncode, 1, err)
        final = json.loads(out)
        self.assertEqual((final["status"], final["error"]), ("FAILED", "interrupted"), err)
        self.server.start()
        run = self.ok("runs", "show", sub["id"])
        self.assertEqual((run["status"], run["error"]), ("FAILED", "interrupted"))


if __name__ == "__main__":
    harness.main()
