"""Tokens, TLS and the listening rules through the real mlprod-server and mlprod CLI (SPEC §8):
the first admin's token from `mlprod-server token create`, roles as the CLI meets them, TLS and
mTLS with certificates made here with openssl, the refusal to listen on a non-loopback address
without auth and TLS, and /metrics behind a token."""

import os
import shutil
import subprocess
import tempfile
import time
import unittest
import urllib.error
import urllib.request

import harness
from harness import args


def openssl(*argv, cwd):
    subprocess.run(["openssl"] + list(argv), cwd=cwd, check=True, capture_output=True,
                   timeout=60)


def make_ca(cwd, name):
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=" + name,
            "-keyout", name + ".key", "-out", name + ".pem", cwd=cwd)


def make_cert(cwd, ca, name, san):
    """A certificate for `name` signed by `ca`, with subjectAltName `san`."""
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=" + name,
            "-keyout", name + ".key", "-out", name + ".csr", cwd=cwd)
    with open(os.path.join(cwd, name + ".ext"), "w") as f:
        f.write("subjectAltName=%s\n" % san)
    openssl("x509", "-req", "-in", name + ".csr", "-CA", ca + ".pem", "-CAkey", ca + ".key",
            "-CAcreateserial", "-days", "2", "-extfile", name + ".ext", "-out", name + ".pem",
            cwd=cwd)


def server_token(data_dir, name, role):
    """`mlprod-server token create`: the secret on stdout, alone."""
    proc = subprocess.run([args().server_bin, "token", "create", "--data-dir", data_dir,
                           "--name", name, "--role", role],
                          capture_output=True, text=True, timeout=60)
    if proc.returncode != 0:
        raise AssertionError("token create failed: %s" % proc.stderr)
    return proc.stdout.strip()


class TokensTest(harness.ServerTestCase):
    """One server whose registry gains its first token while it runs."""

    def cli_as(self, token, *argv):
        return self.cli("--token", token, *argv)

    def test_tokens_from_bootstrap_to_revoke(self):
        # No token exists: auth is off on loopback, and the API hands out no token.
        self.assertError("FAILED_PRECONDITION", "tokens", "create", "--name", "x", "--role",
                         "admin", mentions=["mlprod-server token create"])
        self.ok("datasets", "list")

        root = server_token(self.data_dir, "root", "admin")
        self.assertRegex(root, r"^mlp_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$")
        time.sleep(1.2)  # a token made beside a running server turns auth on within a second
        self.assertError("UNAUTHENTICATED", "datasets", "list", mentions=["token"])
        self.assertError("UNAUTHENTICATED", "--token", "mlp_0123456789abcdef_nope", "datasets",
                         "list")

        made = {}
        for name, role in (("alice", "viewer"), ("bob", "editor"), ("carol", "admin")):
            doc = self.ok("--token", root, "tokens", "create", "--name", name, "--role", role)
            self.assertEqual((doc["name"], doc["role"], doc["created_by"]), (name, role, "root"))
            made[name] = doc["token"]
        self.assertError("ALREADY_EXISTS", "--token", root, "tokens", "create", "--name", "bob",
                         "--role", "viewer")
        self.assertError("PERMISSION_DENIED", "--token", made["bob"], "tokens", "list",
                         mentions=["admin"])

        # The environment variable works like --token.
        env_run = subprocess.run([args().cli_bin, "--server", self.server.address, "-o", "json",
                                  "datasets", "list"], capture_output=True, text=True,
                                 timeout=60, env=dict(harness._cli_env(), MLPROD_TOKEN=made["alice"]))
        self.assertEqual(env_run.returncode, 0, env_run.stderr)

        # A viewer reads but cannot upload; an editor uploads, trains and registers, and is the
        # recorded actor whatever the client claims; only an admin promotes.
        self.assertError("PERMISSION_DENIED", "--token", made["alice"], "datasets", "upload",
                         "salaries.csv", "--name", "salaries", mentions=["editor", "alice"])
        ds = self.ok("--token", made["bob"], "datasets", "upload", "salaries.csv", "--name",
                     "salaries")
        self.assertEqual(ds["created_by"], "bob")
        run = self.ok("--token", made["bob"], "runs", "submit", "--dataset", "salaries",
                      "--formula", harness.LINEAR, "--missing", "mean", "--test-fraction", "0.2",
                      "--seed", "7", "--watch")
        self.assertEqual(run["status"], "SUCCEEDED")
        self.ok("--token", made["bob"], "models", "register", "salary", "--run", run["id"])
        self.assertError("PERMISSION_DENIED", "--token", made["bob"], "models", "promote",
                         "salary", "1", mentions=["admin"])
        self.ok("--token", made["carol"], "models", "promote", "salary", "1", "--reason", "first")
        history = self.ok("--token", made["alice"], "models", "history", "salary")
        self.assertEqual([e["actor"] for e in history["entries"]], ["carol"])
        self.ok("--token", made["alice"], "predict", "salary", "--row",
                "years_code=5,country=Germany,remote=yes")

        # list never shows a secret, in any format.
        for fmt in ("json", "table", "csv"):
            listed = self.cli("--token", root, "-o", fmt, "tokens", "list", json_mode=False)
            self.assertEqual(listed.returncode, 0, listed.describe())
            for token in list(made.values()) + [root]:
                # mlp_<16 hex selector>_<43 base64url secret>; the secret may hold '_'.
                self.assertNotIn(token[-43:], listed.stdout)
        names = [t["name"] for t in self.ok("--token", root, "tokens", "list")["tokens"]]
        self.assertEqual(names, ["alice", "bob", "carol", "root"])

        # A revoked token fails at once.
        revoked = self.ok("--token", root, "tokens", "revoke", "bob")
        self.assertTrue(revoked["revoked"])
        self.assertEqual(revoked["revoked_by"], "root")
        self.assertError("UNAUTHENTICATED", "--token", made["bob"], "datasets", "list")
        self.assertError("FAILED_PRECONDITION", "--token", root, "tokens", "revoke", "bob")


class TlsTest(unittest.TestCase):
    """TLS and mTLS round trips with certificates made by openssl, and refusals."""

    @classmethod
    def setUpClass(cls):
        if shutil.which("openssl") is None:
            raise AssertionError("openssl is missing: deploy/install-deps.sh installs it")
        cls.tmp = tempfile.mkdtemp(prefix="mlprod-tls-")
        make_ca(cls.tmp, "ca")
        make_ca(cls.tmp, "rogue-ca")
        make_cert(cls.tmp, "ca", "server", "IP:127.0.0.1,DNS:localhost")
        make_cert(cls.tmp, "ca", "client", "DNS:client")
        make_cert(cls.tmp, "rogue-ca", "rogue", "DNS:rogue")

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def path(self, name):
        return os.path.join(self.tmp, name)

    def start(self, *extra):
        data = tempfile.mkdtemp(dir=self.tmp)
        server = harness.Server(data, data, ["--tls-cert", self.path("server.pem"), "--tls-key",
                                             self.path("server.key")] + list(extra))
        server.start()
        self.addCleanup(server.stop)
        return server

    def cli(self, server, *argv):
        proc = subprocess.run([args().cli_bin, "--server", server.address, "-o", "json"] +
                              list(argv) + ["server", "status"],
                              capture_output=True, text=True, timeout=60, env=harness._cli_env())
        return proc

    def test_tls_round_trip_and_plaintext_refused(self):
        server = self.start()
        ok = self.cli(server, "--tls-ca", self.path("ca.pem"))
        self.assertEqual(ok.returncode, 0, ok.stderr)
        self.assertIn('"version"', ok.stdout)
        plain = self.cli(server)
        self.assertNotEqual(plain.returncode, 0)
        self.assertIn("error: UNAVAILABLE", plain.stderr)
        wrong_root = self.cli(server, "--tls-ca", self.path("rogue-ca.pem"))
        self.assertNotEqual(wrong_root.returncode, 0)
        self.assertIn("error: UNAVAILABLE", wrong_root.stderr)

    def test_mtls_needs_a_client_certificate_from_the_right_ca(self):
        server = self.start("--tls-client-ca", self.path("ca.pem"))
        ok = self.cli(server, "--tls-ca", self.path("ca.pem"), "--tls-cert",
                      self.path("client.pem"), "--tls-key", self.path("client.key"))
        self.assertEqual(ok.returncode, 0, ok.stderr)
        no_cert = self.cli(server, "--tls-ca", self.path("ca.pem"))
        self.assertNotEqual(no_cert.returncode, 0)
        self.assertIn("error: UNAVAILABLE", no_cert.stderr)
        rogue = self.cli(server, "--tls-ca", self.path("ca.pem"), "--tls-cert",
                         self.path("rogue.pem"), "--tls-key", self.path("rogue.key"))
        self.assertNotEqual(rogue.returncode, 0)
        self.assertIn("error: UNAVAILABLE", rogue.stderr)


class ListenRulesTest(unittest.TestCase):
    """A non-loopback address needs auth and TLS, or --insecure; /metrics follows auth."""

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="mlprod-listen-")
        self.addCleanup(shutil.rmtree, self.tmp, True)

    def run_server(self, data, *extra):
        """Starts a server that must refuse: returns (exit code, stderr)."""
        proc = subprocess.run([args().server_bin, "--listen", "0.0.0.0:0", "--data-dir", data] +
                              list(extra), capture_output=True, text=True, timeout=60)
        return proc.returncode, proc.stderr

    def test_non_loopback_without_auth_and_tls_refuses_to_start(self):
        data = os.path.join(self.tmp, "data")
        code, err = self.run_server(data)
        self.assertNotEqual(code, 0)
        self.assertIn("refusing to listen on 0.0.0.0:0 without auth and TLS", err)
        for fix in ("mlprod-server token create", "--tls-cert", "--insecure"):
            self.assertIn(fix, err)
        server_token(data, "root", "admin")
        code, err = self.run_server(data)
        self.assertNotEqual(code, 0)
        self.assertIn("without TLS", err)

        # --insecure accepts the risk; auth and TLS together need no such flag.
        for extra in (["--insecure"], ["--tls-cert", self.cert("pem"), "--tls-key", self.cert("key")]):
            server = harness.Server(data, self.tmp, extra, listen="0.0.0.0:0")
            server.start()
            server.stop()

    def cert(self, ext):
        if not os.path.exists(os.path.join(self.tmp, "server.pem")):
            make_ca(self.tmp, "ca")
            make_cert(self.tmp, "ca", "server", "IP:127.0.0.1")
        return os.path.join(self.tmp, "server." + ext)

    def test_metrics_need_a_token_once_auth_is_on(self):
        data = os.path.join(self.tmp, "data")
        root = server_token(data, "root", "admin")
        viewer = server_token(data, "scraper", "viewer")
        for extra, open_metrics in (([], False), (["--metrics-open"], True)):
            server = harness.Server(data, self.tmp, ["--metrics-listen", "127.0.0.1:0"] + extra)
            server.start()
            try:
                port = self.metrics_port(server, root)
                url = "http://127.0.0.1:%d/metrics" % port
                if open_metrics:
                    self.assertEqual(urllib.request.urlopen(url, timeout=10).status, 200)
                else:
                    with self.assertRaises(urllib.error.HTTPError) as refused:
                        urllib.request.urlopen(url, timeout=10)
                    self.assertEqual(refused.exception.code, 401)
                    request = urllib.request.Request(
                        url, headers={"Authorization": "Bearer " + viewer})
                    body = urllib.request.urlopen(request, timeout=10).read().decode()
                    self.assertIn("mlprod_grpc_requests_total", body)
            finally:
                server.stop()

    def metrics_port(self, server, token):
        """The metrics port, from the server's log line."""
        deadline = time.time() + 10
        while time.time() < deadline:
            for line in server.log().splitlines():
                if "metrics on" in line:
                    return int(line.rsplit(":", 1)[1].split()[0])
            time.sleep(0.1)
        raise AssertionError("no 'metrics on HOST:PORT' line in the log:\n" + server.log())


class LimitFlags(harness.ServerTestCase):
    """The parser caps follow their flags, through SubmitRun and ListRuns."""
    server_args = ("--max-formula-length", "40", "--max-formula-depth", "3",
                   "--max-filter-length", "30", "--max-filter-depth", "2")

    def test_formula_and_filter_caps_follow_the_flags(self):
        self.upload_salaries()
        self.submit("salary ~ years_code")                       # 19 bytes, depth 0
        long_formula = "salary ~ years_code + country + remote + age"   # 44 bytes
        message = self.assertError("INVALID_ARGUMENT", "runs", "submit", "--dataset", "salaries",
                                   "--formula", long_formula, mentions=["41"])
        self.assertIn("40", message)
        self.assertError("INVALID_ARGUMENT", "runs", "submit", "--dataset", "salaries",
                         "--formula", "salary ~ I((((years_code))))")
        self.ok("runs", "list", "--filter", "metrics.rmse > 1")
        self.assertError("INVALID_ARGUMENT", "runs", "list", "--filter",
                         "metrics.rmse > 1 and params.model = 'ols'", mentions=["31"])
        self.assertError("INVALID_ARGUMENT", "runs", "list", "--filter",
                         "(((metrics.rmse > 1)))")


if __name__ == "__main__":
    harness.main()
