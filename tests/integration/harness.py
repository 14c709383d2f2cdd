"""Shared harness of the integration tests: starts the real mlprod-server on a temporary data
directory and drives it with the real mlprod CLI.

Each test script is run as

    python3 tests/integration/X_test.py --server-bin PATH --cli-bin PATH --generator PATH [unittest args]

Python 3 standard library only.
"""

import argparse
import csv
import importlib.util
import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import unittest

# The quickstart of SPEC §1 / README.md, verbatim.
QUICKSTART = r'''
mlprod datasets upload salaries.csv --name salaries        # salaries@1, 20 000 rows, 7 columns
mlprod datasets describe salaries                           # EDA: types, missing, mean/sd/quantiles, top levels
mlprod runs submit --dataset salaries --formula "salary ~ years_code" --test-fraction 0.2 --seed 7 --watch
mlprod runs submit --dataset salaries --formula "salary ~ years_code + country + remote" \
                   --missing mean --test-fraction 0.2 --seed 7 --watch
mlprod runs submit --dataset salaries --formula "salary ~ years_code + I(years_code^2) + country + remote" \
                   --missing mean --test-fraction 0.2 --seed 7 --watch
mlprod runs compare r1 r2 r3                                # side by side: formula, test RMSE, R², AIC
mlprod runs show r3                                         # coefficient table as R's summary(lm) prints it
mlprod models register salary --run r2                      # salary version 1, lineage to r2 and salaries@1
mlprod models register salary --run r3                      # salary version 2
mlprod models promote salary 1 --reason "first production model"   # production -> v1, with who/when/why
mlprod models promote salary 2 --reason "quadratic experience term" # gated: v2 must not be worse than v1
mlprod predict salary --row years_code=5,country=Germany,remote=yes --intervals   # answered by v2
mlprod models rollback salary --reason "p99 error up"       # production -> v1 again; itself a history entry
mlprod models history salary
'''

NA_STRINGS = {"", "NA", "N/A", "null", "NaN"}
START_TIMEOUT = 30.0
CMD_TIMEOUT = 120.0
STOP_TIMEOUT = 20.0

_ARGS = None


def quickstart_commands():
    """The quickstart as a list of argv lists (without the leading `mlprod`), in order."""
    text = QUICKSTART.replace("\\\n", " ")
    commands = []
    for line in text.splitlines():
        argv = shlex.split(line, comments=True)
        if not argv:
            continue
        assert argv[0] == "mlprod", line
        commands.append(argv[1:])
    return commands


def parse_args():
    """Parses the harness flags; the rest goes to unittest."""
    global _ARGS
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--server-bin", required=True)
    parser.add_argument("--cli-bin", required=True)
    parser.add_argument("--generator", required=True)
    parser.add_argument("--keep", action="store_true", help="keep temporary directories")
    _ARGS, rest = parser.parse_known_args()
    # the CLI runs in a temporary work directory: make every path absolute
    for key in ("server_bin", "cli_bin", "generator"):
        setattr(_ARGS, key, os.path.abspath(getattr(_ARGS, key)))
    return [sys.argv[0]] + rest


def args():
    if _ARGS is None:
        raise RuntimeError("harness.parse_args() was not called (run the test through main())")
    return _ARGS


def main():
    argv = parse_args()
    unittest.main(argv=argv, verbosity=2)


def load_generator():
    """The generator as a module, for its true-model constants."""
    spec = importlib.util.spec_from_file_location("generate_salaries", args().generator)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def read_csv(path):
    """Header and rows of a CSV file, as strings."""
    with open(path, newline="", encoding="utf-8") as f:
        reader = csv.reader(f)
        header = next(reader)
        return header, list(reader)


def column_values(path):
    """{column: [cell, ...]} of a CSV file."""
    header, rows = read_csv(path)
    return {name: [row[i] for row in rows] for i, name in enumerate(header)}


def is_missing(cell):
    return cell in NA_STRINGS


def _cli_env():
    """The environment of the CLI: no server address or token leaking in from outside."""
    env = dict(os.environ)
    env.pop("MLPROD_SERVER", None)
    env.pop("MLPROD_TOKEN", None)
    return env


class Result:
    def __init__(self, argv, proc):
        self.argv = argv
        self.returncode = proc.returncode
        self.stdout = proc.stdout
        self.stderr = proc.stderr
        self._json = None

    @property
    def json(self):
        if self._json is None:
            try:
                self._json = json.loads(self.stdout)
            except ValueError as e:
                raise AssertionError(
                    "stdout of %s is not one JSON document (%s):\n%s\nstderr:\n%s"
                    % (self.cmdline(), e, self.stdout[:4000], self.stderr[-2000:]))
        return self._json

    def cmdline(self):
        return " ".join(shlex.quote(a) for a in self.argv)

    def describe(self):
        return "%s -> exit %d\nstdout:\n%s\nstderr:\n%s" % (
            self.cmdline(), self.returncode, self.stdout[-4000:], self.stderr[-4000:])

    def error(self):
        """(code, message) of an `error: CODE: message` line on stderr, or (None, stderr)."""
        m = re.match(r"error: ([A-Z_]+): (.*)", self.stderr, re.S)
        if not m:
            return None, self.stderr
        return m.group(1), m.group(2).strip()


class Server:
    """One mlprod-server process on a data directory, listening on an ephemeral port."""

    def __init__(self, data_dir, log_dir, extra_args=(), listen="127.0.0.1:0"):
        self.data_dir = data_dir
        self.log_dir = log_dir
        self.listen = listen
        self.extra_args = list(extra_args)  # more mlprod-server flags, e.g. ["--workers", "2"]
        self.proc = None
        self.address = None
        self.starts = 0

    def start(self):
        self.starts += 1
        self.log_path = os.path.join(self.log_dir, "server-%d.log" % self.starts)
        log = self._log = open(self.log_path, "wb")
        proc = self.proc = subprocess.Popen(
            [args().server_bin, "--listen", self.listen, "--data-dir", self.data_dir]
            + self.extra_args,
            stdout=subprocess.PIPE, stderr=log, stdin=subprocess.DEVNULL)
        first = []
        got = threading.Event()

        def pump():
            # First line: the address. Then keep draining so the server never blocks on stdout.
            for i, line in enumerate(iter(proc.stdout.readline, b"")):
                if i == 0:
                    first.append(line.decode("utf-8", "replace").strip())
                    got.set()
                else:
                    log.write(line)
                    log.flush()
            got.set()

        self._pump = threading.Thread(target=pump, daemon=True)
        self._pump.start()
        got.wait(START_TIMEOUT)
        m = re.match(r"mlprod-server listening on (\S+:(\d+))$", first[0]) if first else None
        if not m or int(m.group(2)) == 0:
            self.kill()
            raise AssertionError(
                "mlprod-server did not print 'mlprod-server listening on 127.0.0.1:PORT' within %ds; "
                "first stdout line %r; log:\n%s" % (START_TIMEOUT, first[0] if first else None, self.log()))
        self.address = m.group(1)
        return self

    def log(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read()[-4000:].decode("utf-8", "replace")
        except OSError:
            return ""

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self):
        """SIGTERM and wait; returns the exit status."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                self._finish()
                raise AssertionError("mlprod-server did not stop within %ds of SIGTERM" % STOP_TIMEOUT)
        return self._finish()

    def kill(self):
        """kill -9 and wait."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        return self._finish()

    def _finish(self):
        rc = self.proc.returncode
        self._pump.join(5)
        if not self._pump.is_alive():
            self.proc.stdout.close()
            self._log.close()
        self.proc = None
        return rc


class ServerTestCase(unittest.TestCase):
    """A test class with one data directory, one server on it, and a work directory holding
    salaries.csv. Subclasses use self.cli(...) / cls.cli(...)."""

    json_mode = True
    maxDiff = None
    server_args = ()  # extra mlprod-server flags for this class

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="mlprod-it-")
        cls.data_dir = os.path.join(cls.tmp, "data")
        cls.work_dir = os.path.join(cls.tmp, "work")
        os.makedirs(cls.work_dir)
        cls.csv_path = os.path.join(cls.work_dir, "salaries.csv")
        subprocess.run([sys.executable, args().generator, cls.csv_path], check=True, timeout=CMD_TIMEOUT)
        cls.gen = load_generator()
        cls.server = Server(cls.data_dir, cls.tmp, cls.server_args)
        try:
            cls.server.start()
        except BaseException:
            cls._cleanup()
            raise

    @classmethod
    def tearDownClass(cls):
        cls._cleanup()

    @classmethod
    def _cleanup(cls):
        try:
            if cls.server.running():
                cls.server.stop()
        except Exception as e:  # never leave a server behind
            print("warning: %s" % e, file=sys.stderr)
            cls.server.kill()
        finally:
            if args().keep:
                print("kept %s" % cls.tmp, file=sys.stderr)
            else:
                shutil.rmtree(cls.tmp, ignore_errors=True)

    @classmethod
    def cli(cls, *argv, json_mode=None, timeout=CMD_TIMEOUT):
        """Runs `mlprod --server ADDR [-o json] argv...` in the work directory."""
        if json_mode is None:
            json_mode = cls.json_mode
        full = [args().cli_bin, "--server", cls.server.address] + (["-o", "json"] if json_mode else [])
        full += list(argv)
        try:
            proc = subprocess.run(full, cwd=cls.work_dir, capture_output=True, text=True,
                                  timeout=timeout, stdin=subprocess.DEVNULL, env=_cli_env())
        except subprocess.TimeoutExpired:
            raise AssertionError("%s did not finish within %ds" % (" ".join(full), timeout))
        return Result(full, proc)

    @classmethod
    def ok(cls, *argv, **kw):
        """cli() that must exit 0; returns the parsed JSON document in JSON mode."""
        r = cls.cli(*argv, **kw)
        if r.returncode != 0:
            raise AssertionError("command failed: " + r.describe())
        json_mode = kw.get("json_mode", cls.json_mode)
        return r.json if json_mode else r

    def assertError(self, code, *argv, mentions=()):
        """The command must fail with stderr `error: CODE: ...`; returns the message."""
        r = self.cli(*argv)
        self.assertNotEqual(r.returncode, 0, "expected %s, got success: %s" % (code, r.describe()))
        self.assertTrue(r.stderr.startswith("error: %s: " % code),
                        "expected stderr to start with 'error: %s: ': %s" % (code, r.describe()))
        _, message = r.error()
        for word in mentions:
            self.assertIn(word.lower(), message.lower(),
                          "error message should mention %r: %s" % (word, r.describe()))
        return message

    # Shared workflow helpers -------------------------------------------------------------

    @classmethod
    def upload_salaries(cls):
        return cls.ok("datasets", "upload", "salaries.csv", "--name", "salaries")

    @classmethod
    def submit(cls, formula, seed=7):
        run = cls.ok("runs", "submit", "--dataset", "salaries", "--formula", formula,
                     "--missing", "mean", "--test-fraction", "0.2", "--seed", str(seed), "--watch")
        if run.get("status") != "SUCCEEDED":
            raise AssertionError("run %s did not succeed: %s" % (run.get("id"), json.dumps(run)[:2000]))
        return run


def wait_for_status(test, run_id, statuses, timeout=120.0, poll=0.1):
    """Polls `runs show` until the run's status is in `statuses`; returns the run document."""
    deadline = time.time() + timeout
    while True:
        run = test.ok("runs", "show", run_id)
        if run["status"] in statuses:
            return run
        if time.time() > deadline:
            raise AssertionError("run %s still %s after %ds (waiting for %s)"
                                 % (run_id, run["status"], timeout, sorted(statuses)))
        time.sleep(poll)


def parse_time(text):
    """Seconds since the epoch of an ISO 8601 UTC time the CLI prints ("...T17:04:05.123Z")."""
    import datetime
    return datetime.datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(
        tzinfo=datetime.timezone.utc).timestamp()


def coefficients(run):
    """{term: coefficient entry} of a run document."""
    return {c["term"]: c for c in run["coefficients"]}


LINEAR = "salary ~ years_code + country + remote"
QUADRATIC = "salary ~ years_code + I(years_code^2) + country + remote"
