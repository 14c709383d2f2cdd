#!/usr/bin/python3
"""mlprod against its peers, side by side in one session on this machine (SPEC §10).

    make bench                                  # installs the peers, builds, runs this
    /usr/bin/python3 bench/run_bench.py [--reps 3] [--build-dir build/release] [--quick]

OLS (issue 4): for n=10^6, p=20 and n=2*10^5, p=200 it generates y = b0 + X b + N(0, 1) with a
fixed seed, writes the design once as a binary file, and times on that same file
  - numpy.linalg.lstsq and statsmodels OLS(y, X).fit() (Debian's packages over Debian's OpenBLAS,
    one BLAS thread: OPENBLAS_NUM_THREADS=1 etc. in that process's environment plus threadpoolctl
    limits; threadpoolctl reports which BLAS and kernel ran),
  - mlprod's ml::Train("y ~ .") and Eigen's HouseholderQR of the same matrix, the floor
    (build/<preset>/bench/mlprod_ols_bench),
best of --reps each, and checks mlprod's coefficients against lstsq's.

CSV ingest (issue 5): it writes a survey-shaped CSV of ~200 MB (the columns of
examples/generate_salaries.py, more rows) and times pandas.read_csv of it against an upload through
the API (`mlprod datasets upload` to a fresh mlprod-server until the command returns with the
queryable version), and reports the server's peak RSS growth during the upload.

Serving (SPEC §10): the quickstart's two salary models on a fresh mlprod-server, and beside it an
echo InferenceService built by bench/serve_bench.cc (the gRPC transport ceiling: the same messages,
no work); Predict QPS and p50/p99 latency at 1, 8 and 64 requests in flight with one row per
request, and rows/s with 1000-row batches, mlprod against the echo in paired short rounds (the ratio
is the median over rounds of mlprod's rate over the echo's in the same round); then 100 promotions
of the production alias while 8 requests stay in flight, counting failed requests and requests
answered by a mix of versions, and the QPS before and during. The single-row points are measured
again with auth on (a token on every call, the echo sent the same header) and with TLS plus auth
(a certificate made by openssl, the echo serving the same one), mlprod restarted fresh for each as
the echo is.

It also runs the Google Benchmark micro-benchmarks (build/<preset>/bench/mlprod_bench), then prints
one summary table of ratios and writes the figures to build/<preset>/bench/results.json.

Peers run as their users have them. The machine may set OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE for old
OpenBLAS builds; they slow a current one, so the peer processes run with both unset (that command
alone) and report the kernel OpenBLAS then picks. If a peer process dies that way, it is rerun with
the machine's settings kept, and the summary says so. Python 3 standard library plus numpy,
pandas, statsmodels and threadpoolctl (deploy/install-deps.sh --bench).
"""

import argparse
import datetime
import json
import os
import platform
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

DEBIAN_PYTHON = "/usr/bin/python3"
PEER_MODULES = ("numpy", "pandas", "statsmodels", "threadpoolctl")
OLS_SEED = 20240607
CSV_SEED = 20240608
MAGIC = b"MLPRODOLS1" + b"\0" * 6


def _ensure_debian_python():
    """The peers are Debian packages: run under the interpreter they are installed for."""
    try:
        for m in PEER_MODULES:
            __import__(m)
    except ImportError as e:
        if os.path.realpath(sys.executable) != os.path.realpath(DEBIAN_PYTHON) and os.path.exists(DEBIAN_PYTHON):
            os.execv(DEBIAN_PYTHON, [DEBIAN_PYTHON] + sys.argv)
        sys.exit(f"run_bench: {e}; run deploy/install-deps.sh --bench and use {DEBIAN_PYTHON}")


# ---------------------------------------------------------------------------------------------
# Peer workers: run in their own process, with the environment the measurement states.


def _blas_info():
    from threadpoolctl import threadpool_info
    return [{k: d.get(k) for k in ("user_api", "internal_api", "prefix", "filepath", "version",
                                   "threading_layer", "architecture", "num_threads")}
            for d in threadpool_info()]


def _best(fn, reps):
    times, out = [], None
    for _ in range(reps):
        t0 = time.perf_counter()
        r = fn()
        times.append(time.perf_counter() - t0)
        if out is None:
            out = r
    return min(times), times, out


def worker_ols(path, reps):
    import numpy as np
    import statsmodels.api as sm
    from threadpoolctl import threadpool_limits
    y, x = read_design(path)
    n, p = x.shape
    design = np.empty((n, p + 1), order="F")
    design[:, 0] = 1.0
    design[:, 1:] = x
    del x
    with threadpool_limits(limits=1):
        info = _blas_info()
        lstsq_best, lstsq_all, lstsq_beta = _best(
            lambda: np.linalg.lstsq(design, y, rcond=None)[0], reps)
        sm_best, sm_all, sm_beta = _best(lambda: sm.OLS(y, design).fit().params, reps)
    return {"blas": info, "lstsq_best_s": lstsq_best, "lstsq_s": lstsq_all,
            "lstsq_beta": lstsq_beta.tolist(), "statsmodels_best_s": sm_best,
            "statsmodels_s": sm_all, "statsmodels_beta": np.asarray(sm_beta).tolist()}


def worker_read_csv(path, reps):
    import pandas as pd
    best, all_times, frame = _best(lambda: pd.read_csv(path), reps)
    return {"read_csv_best_s": best, "read_csv_s": all_times, "rows": int(frame.shape[0]),
            "columns": int(frame.shape[1]), "dtypes": {c: str(t) for c, t in frame.dtypes.items()}}


def worker_info():
    import numpy
    import pandas
    import statsmodels
    import threadpoolctl
    from threadpoolctl import threadpool_limits
    # The machine's attainable flop rate: one thread of the peers' BLAS dgemm on 1024x1024.
    a = numpy.random.default_rng(1).standard_normal((1024, 1024))
    with threadpool_limits(limits=1):
        best, _, _ = _best(lambda: a @ a, 5)
    return {"numpy": numpy.__version__, "pandas": pandas.__version__,
            "statsmodels": statsmodels.__version__, "threadpoolctl": threadpoolctl.__version__,
            "python": platform.python_version(), "blas": _blas_info(),
            "dgemm_gflops_1thread": 2 * 1024 ** 3 / best / 1e9}


def peer_env(keep_machine_openblas):
    env = dict(os.environ)
    if not keep_machine_openblas:
        env.pop("OPENBLAS_CORETYPE", None)
        env.pop("OPENBLAS_L2_SIZE", None)
    for k in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "BLIS_NUM_THREADS"):
        env[k] = "1"
    return env


class Peers:
    """Runs worker functions in a child process with the peer environment."""

    def __init__(self):
        self.keep_machine_openblas = False
        self.fallback_note = ""

    def run(self, *args):
        cmd = [sys.executable, os.path.abspath(__file__), "--worker", *map(str, args)]
        for attempt in range(2):
            r = subprocess.run(cmd, env=peer_env(self.keep_machine_openblas), capture_output=True,
                               text=True)
            if r.returncode == 0:
                return json.loads(r.stdout.strip().splitlines()[-1])
            if self.keep_machine_openblas:
                break
            self.keep_machine_openblas = True
            self.fallback_note = (f"peer process died with OPENBLAS_CORETYPE/OPENBLAS_L2_SIZE unset "
                                  f"(rc {r.returncode}: {r.stderr.strip()[-300:]}); rerun with the machine's values")
            print("  " + self.fallback_note, flush=True)
        raise RuntimeError(f"peer worker {args} failed (rc {r.returncode}):\n{r.stderr}")

    def env_note(self):
        env = peer_env(self.keep_machine_openblas)
        kept = {k: env[k] for k in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE") if k in env}
        return ("OPENBLAS_NUM_THREADS=OMP_NUM_THREADS=1 + threadpool_limits(1); "
                + (f"machine's {kept} kept" if kept else "OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset"))


# ---------------------------------------------------------------------------------------------
# Data.


def write_design(path, n, p, seed):
    """y = b0 + X b + N(0, 1); columns of X with varied means and scales. Returns true beta."""
    import numpy as np
    rng = np.random.default_rng(seed)
    mean = rng.uniform(-5, 5, p)
    scale = 10.0 ** rng.uniform(-1, 1, p)
    beta = rng.choice([-1.0, 1.0], p + 1) * rng.uniform(1, 2, p + 1)
    y = np.full(n, beta[0])
    with open(path + ".tmp", "wb") as f:
        f.write(MAGIC)
        f.write(np.array([n, p], dtype="<u8").tobytes())
        f.write(b"\0" * (8 * n))  # y, filled in below
        for j in range(p):
            col = mean[j] + scale[j] * rng.standard_normal(n)
            y += (beta[j + 1] / scale[j]) * col
            col.astype("<f8").tofile(f)
        y += rng.standard_normal(n)
        f.seek(32)
        y.astype("<f8").tofile(f)
    os.replace(path + ".tmp", path)


def read_design(path):
    import numpy as np
    with open(path, "rb") as f:
        if f.read(16) != MAGIC:
            raise ValueError(f"{path}: not a design file")
        n, p = (int(v) for v in np.frombuffer(f.read(16), dtype="<u8"))
        y = np.fromfile(f, dtype="<f8", count=n)
        x = np.fromfile(f, dtype="<f8", count=n * p).reshape(p, n).T  # column-major view
    return y, x


# The shape of examples/generate_salaries.py (same columns, levels, weights, missing shares and
# true model), drawn with numpy so that ~200 MB take seconds, not minutes.
COUNTRIES = ["United States", "Germany", "India", "United Kingdom", "Brazil", "France"]
COUNTRY_WEIGHTS = [0.30, 0.17, 0.18, 0.13, 0.10, 0.12]
COUNTRY_EFFECT = [45000.0, 21000.0, -16000.0, 24000.0, 0.0, 14000.0]
EDUCATION = ["Bachelor", "Master", "PhD", "Secondary", "Other"]
EDUCATION_WEIGHTS = [0.45, 0.30, 0.06, 0.12, 0.07]
COMPANY_SIZES = [1, 5, 10, 20, 50, 100, 250, 500, 1000, 5000, 10000, 50000]
MISSING_SHARE = {"years_code": 0.02, "country": 0.01, "company_size": 0.004, "age": 0.003}


def _survey_chunk(rng, rows):
    import numpy as np
    years = np.clip(np.rint(rng.triangular(0, 6, 40, rows)), 0, 40).astype(np.int64)
    country = rng.choice(len(COUNTRIES), rows, p=COUNTRY_WEIGHTS)
    remote = rng.random(rows) < 0.35
    education = rng.choice(len(EDUCATION), rows, p=EDUCATION_WEIGHTS)
    size = rng.integers(0, len(COMPANY_SIZES), rows)
    age = np.rint(21 + years + rng.normal(0, 3, rows) + rng.exponential(3, rows)).astype(np.int64)
    salary = (52000.0 + 2500.0 * years - 35.0 * years * years + np.array(COUNTRY_EFFECT)[country]
              + 6000.0 * remote + rng.normal(0, 9000, rows))
    salary = np.rint(salary).astype(np.int64)

    def lookup(table, codes):
        return np.array(table, dtype=object)[codes]

    cols = {
        "salary": np.array(list(map(str, salary.tolist())), dtype=object),
        "years_code": lookup([str(i) for i in range(41)], years),
        "country": lookup(COUNTRIES, country),
        "remote": lookup(["no", "yes"], remote.astype(np.int64)),
        "education": lookup(EDUCATION, education),
        "company_size": lookup([str(s) for s in COMPANY_SIZES], size),
        "age": np.array(list(map(str, age.tolist())), dtype=object),
    }
    for name, share in MISSING_SHARE.items():
        hit = rng.random(rows) < share
        na = rng.random(rows) < 0.2
        cols[name][hit & na] = "NA"
        cols[name][hit & ~na] = ""
    order = ["salary", "years_code", "country", "remote", "education", "company_size", "age"]
    return "\n".join(map(",".join, zip(*(cols[c].tolist() for c in order)))) + "\n"


def write_survey_csv(path, target_bytes, seed):
    import numpy as np
    rng = np.random.default_rng(seed)
    written, rows = 0, 0
    with open(path + ".tmp", "w", encoding="utf-8", newline="") as f:
        header = "salary,years_code,country,remote,education,company_size,age\n"
        f.write(header)
        written += len(header)
        while written < target_bytes:
            chunk = _survey_chunk(rng, 250_000)
            f.write(chunk)
            written += len(chunk)
            rows += 250_000
    os.replace(path + ".tmp", path)
    return rows


# ---------------------------------------------------------------------------------------------
# mlprod.


def rss_kib(pid, field):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def start_listener(argv, **popen_args):
    """Starts a process that prints "listening on ADDR" first; returns (process, ADDR)."""
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, text=True, **popen_args)
    line = proc.stdout.readline()
    m = re.search(r"listening on (\S+)", line)
    if not m:
        proc.kill()
        proc.wait()
        raise RuntimeError(f"{os.path.basename(argv[0])} did not start: {line!r}")
    threading.Thread(target=lambda: [None for _ in proc.stdout], daemon=True).start()
    return proc, m.group(1)


def stop_server(server):
    server.send_signal(signal.SIGTERM)
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


def start_server(build, data_dir, log, extra=()):
    """mlprod-server on a free port over `data_dir`; returns (process, ADDR)."""
    return start_listener([os.path.join(build, "server", "mlprod-server"), "--listen", "127.0.0.1:0",
                           "--data-dir", data_dir, *extra], stderr=log)


def fresh_server(build, workdir, prefix):
    """mlprod-server on a free port with a new data dir; returns (process, ADDR, data_dir, log)."""
    data_dir = tempfile.mkdtemp(prefix=prefix, dir=workdir)
    log = open(os.path.join(data_dir, "..", os.path.basename(data_dir) + ".log"), "w")
    server, addr = start_server(build, data_dir, log)
    return server, addr, data_dir, log


def make_tls_files(workdir):
    """A CA and a certificate for 127.0.0.1 it signed, made with openssl; returns their paths."""
    d = tempfile.mkdtemp(prefix="tls-", dir=workdir)

    def openssl(*argv):
        subprocess.run(["openssl", *argv], cwd=d, check=True, capture_output=True)
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=bench-ca",
            "-keyout", "ca.key", "-out", "ca.pem")
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1", "-keyout", "server.key",
            "-out", "server.csr")
    with open(os.path.join(d, "san.ext"), "w") as f:
        f.write("subjectAltName=IP:127.0.0.1\n")
    openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
            "-days", "1", "-extfile", "san.ext", "-out", "server.pem")
    return {name: os.path.join(d, name) for name in ("ca.pem", "server.pem", "server.key")}


def ingest_once(build, csv_path, workdir, name):
    """Fresh server and data dir; times `mlprod datasets upload` until it returns."""
    server, addr, data_dir, log = fresh_server(build, workdir, "ingest-")
    try:
        time.sleep(0.5)
        rss_before = rss_kib(server.pid, "VmRSS")
        hwm_before = rss_kib(server.pid, "VmHWM")
        peak = [rss_before]
        done = threading.Event()

        def poll():
            while not done.is_set():
                try:
                    peak[0] = max(peak[0], rss_kib(server.pid, "VmRSS"))
                except OSError:
                    return
                time.sleep(0.02)

        poller = threading.Thread(target=poll, daemon=True)
        poller.start()
        t0 = time.perf_counter()
        r = subprocess.run([os.path.join(build, "client", "mlprod"), "--server", addr, "-o", "json",
                            "datasets", "upload", csv_path, "--name", name],
                           capture_output=True, text=True)
        elapsed = time.perf_counter() - t0
        done.set()
        poller.join()
        hwm_after = rss_kib(server.pid, "VmHWM")
        rss_after = rss_kib(server.pid, "VmRSS")
        if r.returncode != 0:
            raise RuntimeError(f"upload failed (rc {r.returncode}): {r.stderr.strip()}")
        version = json.loads(r.stdout)
        return {"seconds": elapsed, "rss_before_kib": rss_before, "hwm_before_kib": hwm_before,
                "hwm_after_kib": hwm_after, "rss_after_kib": rss_after, "polled_peak_kib": peak[0],
                "peak_growth_mib": (max(hwm_after, peak[0]) - rss_before) / 1024.0,
                "rows": version.get("rows"), "columns": [c["type"] for c in version.get("columns", [])]}
    finally:
        stop_server(server)
        log.close()
        shutil.rmtree(data_dir, ignore_errors=True)


# Rows the serving benchmark predicts (the salary model's signature, varied levels).
SERVE_ROWS = ["years_code=5,country=Germany,remote=yes", "years_code=12,country=India,remote=no",
              "years_code=1,country=United States,remote=no", "years_code=30,country=Brazil,remote=yes"]


def serve_bench(build, workdir, source, reps, seconds):
    """The quickstart's two salary models on a fresh mlprod-server, the echo service beside it,
    and mlprod_serve_bench between them; returns its JSON."""
    salaries = os.path.join(workdir, "salaries.csv")
    if not os.path.exists(salaries):
        subprocess.run([sys.executable, os.path.join(source, "examples", "generate_salaries.py"), salaries],
                       check=True)
    server, addr, data_dir, log = fresh_server(build, workdir, "serve-")
    try:
        def cli(*argv):
            subprocess.run([os.path.join(build, "client", "mlprod"), "--server", addr, "-o", "json", *argv],
                           check=True, capture_output=True, text=True)
        cli("datasets", "upload", salaries, "--name", "salaries")
        for formula in ("salary ~ years_code + country + remote",
                        "salary ~ years_code + I(years_code^2) + country + remote"):
            cli("runs", "submit", "--dataset", "salaries", "--formula", formula, "--missing", "mean",
                "--test-fraction", "0.2", "--seed", "7", "--watch")
        cli("models", "register", "salary", "--run", "r1")
        cli("models", "register", "salary", "--run", "r2")
        cli("models", "promote", "salary", "1", "--reason", "serve bench")
        bench = os.path.join(build, "bench", "mlprod_serve_bench")
        rows = [a for row in SERVE_ROWS for a in ("--row", row)]

        def measure(addr, extra_echo=(), extra_load=()):
            echo, echo_addr = start_listener([bench, "--echo-server", *extra_echo], stdin=subprocess.PIPE)
            try:
                argv = [bench, "--mlprod", addr, "--echo", echo_addr, "--model", "salary", "--seconds",
                        str(seconds), "--reps", str(reps), *rows, *extra_load]
                return json.loads(subprocess.run(argv, check=True, capture_output=True, text=True).stdout)
            finally:
                echo.stdin.close()
                echo.wait(timeout=30)

        out = measure(addr)
        # Auth on: a token on every call (the echo gets the same header). Both servers start fresh
        # for each measurement, as the echo does: the one above left mlprod with the threads and
        # memory of its 64-in-flight, batch and promotion loads.
        token = subprocess.run([os.path.join(build, "server", "mlprod-server"), "token", "create",
                                "--data-dir", data_dir, "--name", "bench", "--role", "admin"],
                               check=True, capture_output=True, text=True).stdout.strip()
        stop_server(server)
        server, addr = start_server(build, data_dir, log)
        out["auth"] = measure(addr, extra_load=("--token", token, "--single-row-only", "1"))
        # TLS and auth: the server restarted with a certificate, the echo with the same one.
        tls = make_tls_files(workdir)
        stop_server(server)
        server, addr = start_server(build, data_dir, log,
                                    ("--tls-cert", tls["server.pem"], "--tls-key", tls["server.key"]))
        out["tls"] = measure(addr, ("--tls-cert", tls["server.pem"], "--tls-key", tls["server.key"]),
                             ("--token", token, "--tls-ca", tls["ca.pem"], "--single-row-only", "1"))
        return out
    finally:
        stop_server(server)
        log.close()
        shutil.rmtree(data_dir, ignore_errors=True)


# ---------------------------------------------------------------------------------------------
# Driver.


def load():
    return "%.2f %.2f %.2f" % os.getloadavg()


def machine_info():
    cpu = ""
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next((l.split(":", 1)[1].strip() for l in f if l.startswith("model name")), "")
    except OSError:
        pass
    return {"date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
            "cores": os.cpu_count(), "cpu": cpu, "kernel": platform.release(),
            "machine_openblas_env": {k: os.environ.get(k) for k in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")}}


def git_state(source):
    def git(*a):
        r = subprocess.run(["git", "-C", source, *a], capture_output=True, text=True)
        return r.stdout.rstrip("\n") if r.returncode == 0 else ""
    return {"commit": git("rev-parse", "--short", "HEAD").strip(),
            "dirty": [l[3:] for l in git("status", "--porcelain", "--", "ml", "server", "registry").splitlines()]}


def blas_summary(blas):
    parts = []
    for d in blas:
        if d.get("user_api") == "blas":
            parts.append(f"{d.get('internal_api')} {d.get('version')} ({os.path.basename(d.get('filepath') or '')}, "
                         f"{d.get('threading_layer')}, kernel {d.get('architecture')}, {d.get('num_threads')} thread(s))")
    return "; ".join(parts) or "no BLAS found by threadpoolctl"


def run_micro(build):
    exe = os.path.join(build, "bench", "mlprod_bench")
    if not os.path.exists(exe):
        return None
    r = subprocess.run([exe, "--benchmark_format=json"], capture_output=True, text=True)
    if r.returncode != 0:
        print(f"  mlprod_bench failed: {r.stderr.strip()[-300:]}")
        return None
    out = {}
    for b in json.loads(r.stdout)["benchmarks"]:
        out[b["name"]] = {"real_time_ms": b["real_time"] if b.get("time_unit") == "ms" else None,
                          "bytes_per_second": b.get("bytes_per_second")}
    return out


def fmt_s(s):
    return f"{s:.3f} s" if s >= 0.1 else f"{s * 1000:.1f} ms"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--build-dir", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "..",
                                                        "build", "release"))
    ap.add_argument("--workdir", help="where the data files go (default BUILD/bench/data)")
    ap.add_argument("--reps", type=int, default=3, help="best of REPS for every timing (>= 3)")
    ap.add_argument("--quick", action="store_true", help="small shapes and a 20 MB CSV: a smoke test")
    ap.add_argument("--skip-ols", action="store_true")
    ap.add_argument("--skip-csv", action="store_true")
    ap.add_argument("--skip-micro", action="store_true")
    ap.add_argument("--skip-serve", action="store_true")
    ap.add_argument("--json-out", help="also write the results here")
    ap.add_argument("--worker", nargs="+", help=argparse.SUPPRESS)
    args = ap.parse_args()

    _ensure_debian_python()
    if args.worker:
        kind, rest = args.worker[0], args.worker[1:]
        if kind == "ols":
            out = worker_ols(rest[0], int(rest[1]))
        elif kind == "read_csv":
            out = worker_read_csv(rest[0], int(rest[1]))
        else:
            out = worker_info()
        print(json.dumps(out))
        return 0

    build = os.path.abspath(args.build_dir)
    workdir = os.path.abspath(args.workdir or os.path.join(build, "bench", "data"))
    os.makedirs(workdir, exist_ok=True)
    reps = max(1, args.reps)
    # Copies of the binaries, so that another build relinking build/ mid-run changes nothing here.
    bindir = os.path.join(workdir, "bin")
    for sub, exe in (("bench", "mlprod_bench"), ("bench", "mlprod_ols_bench"), ("bench", "mlprod_serve_bench"),
                     ("server", "mlprod-server"), ("client", "mlprod")):
        os.makedirs(os.path.join(bindir, sub), exist_ok=True)
        src = os.path.join(build, sub, exe)
        if os.path.exists(src):
            shutil.copy2(src, os.path.join(bindir, sub, exe))
    source = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    build = bindir
    peers = Peers()
    results = {"machine": machine_info(), "reps": reps, "load_average": {"start": load()},
               "source": git_state(source)}
    started = time.time()

    print(f"== mlprod bench  {results['machine']['date']}  {results['machine']['cores']} cores "
          f"({results['machine']['cpu']})  load average {load()}", flush=True)
    info = peers.run("info")
    results["peers"] = info
    print(f"   peers: python {info['python']}, numpy {info['numpy']}, pandas {info['pandas']}, "
          f"statsmodels {info['statsmodels']}", flush=True)
    print(f"   peer BLAS: {blas_summary(info['blas'])}", flush=True)
    print(f"   peer env: {peers.env_note()}", flush=True)
    print(f"   peer dgemm (1 thread, 1024^3): {info['dgemm_gflops_1thread']:.1f} GFLOP/s", flush=True)
    src = results["source"]
    ols_dirty = any(d.endswith("ml/ols.cc") for d in src["dirty"])
    print(f"   mlprod source: commit {src['commit']}"
          + (f" + {len(src['dirty'])} uncommitted files under ml/ server/ registry/"
             + (" (ml/ols.cc among them)" if ols_dirty else "") if src["dirty"] else ", clean"), flush=True)
    if os.getloadavg()[0] > (os.cpu_count() or 1):
        print(f"   WARNING: load average above the core count: other work shares the cores; "
              f"absolute times are inflated and ratios noisy", flush=True)

    if not args.skip_micro:
        print(f"-- Google Benchmark micro-benchmarks (mlprod_bench)  load {load()}", flush=True)
        results["micro"] = run_micro(build)
        for k, v in (results["micro"] or {}).items():
            extra = f", {v['bytes_per_second'] / 1e6:.0f} MB/s" if v.get("bytes_per_second") else ""
            print(f"   {k}: {v['real_time_ms']:.1f} ms{extra}", flush=True)

    if not args.skip_ols:
        shapes = [(100_000, 20), (20_000, 200)] if args.quick else [(1_000_000, 20), (200_000, 200)]
        results["ols"] = []
        for n, p in shapes:
            path = os.path.join(workdir, f"ols_n{n}_p{p}_s{OLS_SEED}.bin")
            if not os.path.exists(path):
                write_design(path, n, p, OLS_SEED + p)
            print(f"-- OLS n={n} p={p} (+ intercept)  best of {reps}  load {load()}", flush=True)
            # Rounds alternate peers and mlprod, so that load from other work falls on both alike.
            peer, ml = None, None
            for _ in range(reps):
                pr = peers.run("ols", path, 1)
                r = subprocess.run([os.path.join(build, "bench", "mlprod_ols_bench"), path, "1"],
                                   capture_output=True, text=True)
                if r.returncode != 0:
                    raise RuntimeError(f"mlprod_ols_bench failed: {r.stderr}")
                mr = json.loads(r.stdout.strip().splitlines()[-1])
                if peer is None:
                    peer, ml = pr, mr
                else:
                    for k in ("lstsq_s", "statsmodels_s"):
                        peer[k] += pr[k]
                    for k in ("train_s", "floor_s"):
                        ml[k] += mr[k]
                    ml["gemm_gflops"] = max(ml["gemm_gflops"], mr["gemm_gflops"])
            peer["lstsq_best_s"], peer["statsmodels_best_s"] = min(peer["lstsq_s"]), min(peer["statsmodels_s"])
            ml["train_best_s"], ml["floor_best_s"] = min(ml["train_s"]), min(ml["floor_s"])
            ml["flop_bound_s"] = ml["qr_flops"] / (ml["gemm_gflops"] * 1e9)
            ref = peer["lstsq_beta"]

            def max_rel(beta):
                return max(abs(a - b) / max(abs(b), 1e-300) if a is not None else float("inf")
                           for a, b in zip(beta, ref))

            row = {"n": n, "p": p, "lstsq_s": peer["lstsq_best_s"], "statsmodels_s": peer["statsmodels_best_s"],
                   "mlprod_s": ml["train_best_s"], "floor_s": ml["floor_best_s"],
                   "flop_bound_s": ml["flop_bound_s"], "gemm_gflops": ml["gemm_gflops"],
                   "machine_flop_bound_s": ml["qr_flops"] / (info["dgemm_gflops_1thread"] * 1e9),
                   "blas": blas_summary(peer["blas"]), "all_times": {
                       "lstsq": peer["lstsq_s"], "statsmodels": peer["statsmodels_s"],
                       "mlprod": ml["train_s"], "floor": ml["floor_s"]},
                   "max_rel_diff_mlprod_vs_lstsq": max_rel(ml["train_beta"]),
                   "max_rel_diff_floor_vs_lstsq": max_rel(ml["floor_beta"]),
                   "max_rel_diff_statsmodels_vs_lstsq": max_rel(peer["statsmodels_beta"]),
                   "eigen_simd": ml["eigen_simd"], "tsqr_kernel": ml["tsqr_kernel"], "load": load()}
            row["numpy_over_mlprod"] = row["lstsq_s"] / row["mlprod_s"]
            row["statsmodels_over_mlprod"] = row["statsmodels_s"] / row["mlprod_s"]
            row["mlprod_over_floor"] = row["mlprod_s"] / row["floor_s"]
            results["ols"].append(row)
            print(f"   numpy lstsq {fmt_s(row['lstsq_s'])}   statsmodels {fmt_s(row['statsmodels_s'])}   "
                  f"mlprod Train {fmt_s(row['mlprod_s'])}   Eigen HouseholderQR floor {fmt_s(row['floor_s'])}   "
                  f"(QR flop bound {fmt_s(row['machine_flop_bound_s'])} at OpenBLAS dgemm's "
                  f"{info['dgemm_gflops_1thread']:.1f} GFLOP/s, {fmt_s(row['flop_bound_s'])} at Eigen's "
                  f"{row['gemm_gflops']:.1f})", flush=True)
            print(f"   numpy/mlprod {row['numpy_over_mlprod']:.2f}x   statsmodels/mlprod "
                  f"{row['statsmodels_over_mlprod']:.2f}x   mlprod/floor {row['mlprod_over_floor']:.2f}x   "
                  f"max rel diff of coefficients vs lstsq: mlprod {row['max_rel_diff_mlprod_vs_lstsq']:.1e}, "
                  f"statsmodels {row['max_rel_diff_statsmodels_vs_lstsq']:.1e}, floor "
                  f"{row['max_rel_diff_floor_vs_lstsq']:.1e}", flush=True)

    if not args.skip_csv:
        target = 20_000_000 if args.quick else 200_000_000
        path = os.path.join(workdir, f"survey_{target // 1_000_000}MB_s{CSV_SEED}.csv")
        if not os.path.exists(path):
            print(f"-- writing {path}", flush=True)
            write_survey_csv(path, target, CSV_SEED)
        size = os.path.getsize(path)
        with open(path, "rb") as f:  # into the page cache for both readers
            while f.read(1 << 24):
                pass
        print(f"-- CSV ingest {size / 1e6:.1f} MB  best of {reps}  load {load()}", flush=True)
        pandas, runs = None, []
        for i in range(reps):  # alternating, as for OLS
            pr = peers.run("read_csv", path, 1)
            if pandas is None:
                pandas = pr
            else:
                pandas["read_csv_s"] += pr["read_csv_s"]
            runs.append(ingest_once(build, path, workdir, f"bench{i}"))
        pandas["read_csv_best_s"] = min(pandas["read_csv_s"])
        best = min(runs, key=lambda r: r["seconds"])
        row = {"bytes": size, "rows": pandas["rows"], "pandas_s": pandas["read_csv_best_s"],
               "pandas_all_s": pandas["read_csv_s"], "mlprod_s": best["seconds"],
               "mlprod_all_s": [r["seconds"] for r in runs], "mlprod_rows": best["rows"],
               "mlprod_column_types": best["columns"], "pandas_dtypes": pandas["dtypes"],
               "server_peak_rss_growth_mib": max(r["peak_growth_mib"] for r in runs),
               "server_rss_before_mib": best["rss_before_kib"] / 1024.0,
               "server_rss_after_mib": best["rss_after_kib"] / 1024.0, "runs": runs, "load": load()}
        row["pandas_mb_s"] = size / 1e6 / row["pandas_s"]
        row["mlprod_mb_s"] = size / 1e6 / row["mlprod_s"]
        row["mlprod_over_pandas"] = row["mlprod_mb_s"] / row["pandas_mb_s"]
        results["csv"] = row
        if row["mlprod_rows"] != row["rows"]:
            print(f"   WARNING: mlprod stored {row['mlprod_rows']} rows, pandas read {row['rows']}")
        print(f"   pandas.read_csv {fmt_s(row['pandas_s'])} = {row['pandas_mb_s']:.1f} MB/s   "
              f"mlprod upload {fmt_s(row['mlprod_s'])} = {row['mlprod_mb_s']:.1f} MB/s   "
              f"ratio {row['mlprod_over_pandas']:.2f}x   rows {row['mlprod_rows']}", flush=True)
        print(f"   server RSS {row['server_rss_before_mib']:.0f} MiB before; peak growth during upload "
              f"{row['server_peak_rss_growth_mib']:.0f} MiB (max over {reps} uploads)", flush=True)

    if not args.skip_serve:
        seconds = 1 if args.quick else 3
        print(f"-- Predict and promotion under load  {reps} x {seconds} s per point and server, in paired "
              f"rounds  load {load()}",
              flush=True)
        s = serve_bench(build, workdir, source, reps, seconds)
        results["serve"] = s
        for label, points in (("", s["single_row"] + [s["batch"]]), ("auth on, ", s["auth"]["single_row"]),
                              ("TLS + auth, ", s["tls"]["single_row"])):
            for p in points:
                e, m = p["echo"], p["mlprod"]
                print(f"   {label}{p['rows']} row(s)/request, {p['inflight']} in flight: echo {e['qps']:.0f} qps "
                      f"(p50 {e['p50_us']:.0f} us, p99 {e['p99_us']:.0f} us)   mlprod {m['qps']:.0f} qps "
                      f"(p50 {m['p50_us']:.0f} us, p99 {m['p99_us']:.0f} us)   "
                      f"mlprod/echo {p['ratio_median']:.2f} (median of {len(p['ratios'])} paired rounds)",
                      flush=True)
        pr = s["promotion"]
        b, d = pr["before"], pr["during"]
        print(f"   {pr['promoted']} promotions under 8 in flight ({pr['rows_per_request']} rows/request): "
              f"{d['failed']} failed, {d['mixed']} mixed of {d['requests']} requests; qps {b['qps']:.0f} before, "
              f"{d['qps']:.0f} during; slowest 100 ms window {pr['min_window_qps_before']:.0f} before, "
              f"{pr['min_window_qps_during']:.0f} during; p99 {b['p99_us']:.0f} us before, {d['p99_us']:.0f} during; "
              f"promote p50 {pr['promote_p50_ms']:.1f} ms", flush=True)

    results["load_average"]["end"] = load()
    results["seconds"] = time.time() - started
    results["peer_env"] = peers.env_note()
    results["peer_env_fallback"] = peers.fallback_note

    print()
    print(f"== summary  ({results['machine']['cores']} cores, best of {reps}, load average "
          f"{results['load_average']['start']} -> {results['load_average']['end']}, {results['seconds']:.0f} s)")
    print(f"   peers: {blas_summary(info['blas'])}; {peers.env_note()}")
    kernel = next((o["tsqr_kernel"] for o in results.get("ols", [])), "")
    print(f"   mlprod: own streaming-TSQR kernels (no BLAS), one thread" + (f", {kernel}" if kernel else ""))
    rows = [("benchmark", "peer", "mlprod", "ratio", "target", "met")]
    for o in results.get("ols", []):
        shape = f"OLS n={o['n']:,} p={o['p']}"
        rows.append((shape + " vs numpy lstsq", fmt_s(o["lstsq_s"]), fmt_s(o["mlprod_s"]),
                     f"{o['numpy_over_mlprod']:.2f}x", ">= 2x", "yes" if o["numpy_over_mlprod"] >= 2 else "NO"))
        rows.append((shape + " vs statsmodels", fmt_s(o["statsmodels_s"]), fmt_s(o["mlprod_s"]),
                     f"{o['statsmodels_over_mlprod']:.2f}x", "", ""))
        rows.append((shape + " mlprod / Eigen HQR floor", fmt_s(o["floor_s"]), fmt_s(o["mlprod_s"]),
                     f"{o['mlprod_over_floor']:.2f}x", "", ""))
        rows.append((shape + " mlprod / QR flop bound", fmt_s(o["machine_flop_bound_s"]), fmt_s(o["mlprod_s"]),
                     f"{o['mlprod_s'] / o['machine_flop_bound_s']:.1f}x", "", ""))
        rows.append((shape + " coef max rel diff", "lstsq", "", f"{o['max_rel_diff_mlprod_vs_lstsq']:.1e}", "", ""))
    if "csv" in results:
        c = results["csv"]
        rows.append((f"CSV ingest {c['bytes'] / 1e6:.0f} MB vs pandas.read_csv", f"{c['pandas_mb_s']:.1f} MB/s",
                     f"{c['mlprod_mb_s']:.1f} MB/s", f"{c['mlprod_over_pandas']:.2f}x", ">= 3x",
                     "yes" if c["mlprod_over_pandas"] >= 3 else "NO"))
        rows.append(("CSV ingest server peak RSS growth", "", f"{c['server_peak_rss_growth_mib']:.0f} MiB", "", "", ""))
    if "serve" in results:
        s = results["serve"]
        for p in s["single_row"] + [s["batch"]]:
            e, m = p["echo"], p["mlprod"]
            rows.append((f"Predict {p['rows']} row(s), {p['inflight']} in flight: mlprod / echo",
                         f"{e['qps'] * p['rows']:.0f} rows/s", f"{m['qps'] * p['rows']:.0f} rows/s",
                         f"{p['ratio_median']:.2f}x", "", ""))
        for key, label in (("auth", "auth on"), ("tls", "TLS + auth, echo over TLS")):
            for p in s[key]["single_row"]:
                e, m = p["echo"], p["mlprod"]
                ratio = p["ratio_median"]
                target = ">= 0.9x" if p["inflight"] == 1 else ""
                rows.append((f"Predict 1 row, {p['inflight']} in flight, {label}: mlprod / echo",
                             f"{e['qps']:.0f} rows/s", f"{m['qps']:.0f} rows/s", f"{ratio:.2f}x", target,
                             ("yes" if ratio >= 0.9 else "NO") if target else ""))
        pr = s["promotion"]
        d = pr["during"]
        rows.append((f"{pr['promoted']} promotions under load: failed, mixed", "", f"{d['failed']}, {d['mixed']}",
                     "", "0, 0", "yes" if d["failed"] == 0 and d["mixed"] == 0 else "NO"))
        rows.append(("promotions under load: QPS during / before", f"{pr['before']['qps']:.0f}",
                     f"{d['qps']:.0f}", f"{d['qps'] / pr['before']['qps']:.2f}x", "", ""))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for i, r in enumerate(rows):
        print("   " + "  ".join(cell.ljust(w) for cell, w in zip(r, widths)).rstrip())
        if i == 0:
            print("   " + "  ".join("-" * w for w in widths))

    out = os.path.join(os.path.abspath(args.build_dir), "bench", "results.json")
    for target in [out] + ([args.json_out] if args.json_out else []):
        with open(target, "w") as f:
            json.dump(results, f, indent=1)
    print(f"\n   results written to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
