"""The checks of the kill -9 durability test (durability_test.py), on the SQLite file itself
(opened read-only with Python's sqlite3) and on the blob folder beside it.

Each check returns a list of problems (strings); empty means the data directory is sound.
Python 3 standard library only.
"""

import collections
import json
import os
import sqlite3

TERMINAL = {"SUCCEEDED", "FAILED", "CANCELLED"}


def connect_read_only(data_dir):
    return sqlite3.connect("file:%s?mode=ro" % os.path.join(data_dir, "mlprod.db"), uri=True)


def check_file(data_dir):
    """With the server down (just killed): the database passes integrity_check and
    foreign_key_check and is in WAL mode."""
    con = connect_read_only(data_dir)
    try:
        problems = []
        integrity = con.execute("PRAGMA integrity_check").fetchall()
        if integrity != [("ok",)]:
            problems.append("PRAGMA integrity_check: %r" % integrity[:20])
        fk = con.execute("PRAGMA foreign_key_check").fetchall()
        if fk:
            problems.append("PRAGMA foreign_key_check: %r" % fk[:20])
        mode = con.execute("PRAGMA journal_mode").fetchone()[0].lower()
        if mode != "wal":
            problems.append("journal_mode is %s, not wal" % mode)
        return problems
    finally:
        con.close()


class Snapshot:
    """Every row a user can see, read in one read transaction."""

    def __init__(self, data_dir):
        con = connect_read_only(data_dir)
        try:
            con.execute("BEGIN")
            self.datasets = {
                (r[0], r[1]): {"id": r[2], "sha256": r[3], "rows": r[4], "blob_key": r[5],
                               "deleted": r[6] != 0}
                for r in con.execute("SELECT name, version, id, sha256, rows, blob_key, "
                                     "deleted_at_ms FROM datasets")}
            self.runs = {
                r[0]: {"status": r[1], "error": r[2], "dataset": (r[3], r[4]), "formula": r[5],
                       "seed": r[6], "metrics": r[7], "model_blob_key": r[8],
                       "report_bytes": r[9], "started": r[10] > 0}
                for r in con.execute("SELECT seq, status, error, dataset_name, dataset_version, "
                                     "formula, seed, metrics, model_blob_key, length(report), "
                                     "started_at_ms FROM runs")}
            self.versions = {
                (r[0], r[1]): {"run_seq": r[2], "dataset": (r[3], r[4]), "dataset_sha256": r[5],
                               "metrics": r[6]}
                for r in con.execute("SELECT model, version, run_seq, dataset_name, "
                                     "dataset_version, dataset_sha256, metrics "
                                     "FROM model_versions")}
            self.aliases = {(r[0], r[1]): r[2] for r in
                            con.execute("SELECT model, alias, version FROM aliases")}
            self.history = [
                {"seq": r[0], "model": r[1], "alias": r[2], "from": r[3], "to": r[4],
                 "action": r[5], "reason": r[6], "forced": r[7] != 0}
                for r in con.execute("SELECT seq, model, alias, from_version, to_version, action, "
                                     "reason, forced FROM alias_history ORDER BY seq")]
            con.execute("COMMIT")
        finally:
            con.close()
        self.history_by_reason = collections.defaultdict(list)
        for h in self.history:
            self.history_by_reason[h["reason"]].append(h)


def _contiguous(problems, what, keys):
    """Versions of each name are 1..N: a number is never skipped nor reused."""
    by_name = collections.defaultdict(list)
    for name, version in keys:
        by_name[name].append(version)
    for name, versions in sorted(by_name.items()):
        if sorted(versions) != list(range(1, len(versions) + 1)):
            problems.append("%s %s has versions %s, not 1..%d" % (what, name, sorted(versions),
                                                                  len(versions)))


def check_consistency(snap, data_dir):
    """Nothing half-applied is visible, whatever the writes were."""
    problems = []
    blobs = os.path.join(data_dir, "blobs")

    def blob_ok(key):
        path = os.path.join(blobs, key)
        return os.path.isfile(path) and os.path.getsize(path) > 0

    # Datasets: numbered without gaps, each live version's bytes present, no duplicate bytes.
    _contiguous(problems, "dataset", snap.datasets)
    seen_sha = {}
    for (name, version), d in sorted(snap.datasets.items()):
        if d["deleted"]:
            continue
        if d["blob_key"] != "datasets/%d.cols" % d["id"] or not blob_ok(d["blob_key"]):
            problems.append("dataset %s@%d: blob %r missing or empty" % (name, version, d["blob_key"]))
        other = seen_sha.setdefault((name, d["sha256"]), version)
        if other != version:
            problems.append("dataset %s: versions %d and %d hold the same bytes (sha256 %s)"
                            % (name, other, version, d["sha256"]))

    # Runs: none left active by the kill; a stopped one says why; a succeeded one has its model.
    for seq, r in sorted(snap.runs.items()):
        if r["status"] not in TERMINAL:
            problems.append("run r%d is %s after the restart" % (seq, r["status"]))
        elif r["status"] == "FAILED" and r["error"] != "interrupted":
            problems.append("run r%d FAILED with %r (only 'interrupted' is expected)" % (seq, r["error"]))
        elif r["status"] == "SUCCEEDED":
            if r["model_blob_key"] != "models/r%d.model" % seq or not blob_ok(r["model_blob_key"]):
                problems.append("run r%d SUCCEEDED without its model blob (%r)" % (seq, r["model_blob_key"]))
            if "test_rmse" not in json.loads(r["metrics"]) or not r["report_bytes"]:
                problems.append("run r%d SUCCEEDED without metrics or report" % seq)
        if r["dataset"] not in snap.datasets:
            problems.append("run r%d references missing dataset %s@%d" % ((seq,) + r["dataset"]))

    # Model versions: numbered without gaps, each from a succeeded run, lineage matching.
    _contiguous(problems, "model", snap.versions)
    for (model, version), v in sorted(snap.versions.items()):
        run = snap.runs.get(v["run_seq"])
        if run is None or run["status"] != "SUCCEEDED":
            problems.append("model %s v%d: its run r%d is %s" % (
                model, version, v["run_seq"], run["status"] if run else "missing"))
            continue
        d = snap.datasets.get(v["dataset"])
        if v["dataset"] != run["dataset"] or d is None or d["sha256"] != v["dataset_sha256"]:
            problems.append("model %s v%d: lineage %s/%s does not match its run" % (
                model, version, v["dataset"], v["dataset_sha256"]))
        if v["metrics"] != run["metrics"]:
            problems.append("model %s v%d: metrics differ from run r%d" % (model, version, v["run_seq"]))

    # Aliases: the history replays to the alias table, entry by entry.
    replay = {}
    for h in snap.history:
        key = (h["model"], h["alias"])
        if (h["model"], h["to"]) not in snap.versions:
            problems.append("history #%d moves %s@%s to missing version %d" % ((h["seq"],) + key + (h["to"],)))
        if h["from"] != replay.get(key):
            problems.append("history #%d of %s@%s starts from %s, but the previous entry ended at %s"
                            % ((h["seq"],) + key + (h["from"], replay.get(key))))
        replay[key] = h["to"]
    if replay != snap.aliases:
        problems.append("alias table %s differs from the replayed history %s" % (
            sorted(snap.aliases.items()), sorted(replay.items())))

    # A crash may leave temporary blobs; the restart removes them.
    for root, _, names in os.walk(blobs):
        for name in names:
            if ".tmp." in name:
                problems.append("temporary blob %s left after the restart" % os.path.join(root, name))
    return problems


def check_preserved(previous, snap):
    """Everything the previous check saw is still there, unchanged: committed means kept."""
    problems = []
    if previous is None:
        return problems
    for table in ("datasets", "runs", "versions"):
        before, now = getattr(previous, table), getattr(snap, table)
        for key, row in before.items():
            if now.get(key) != row:
                problems.append("%s %s changed from %s to %s" % (table, key, row, now.get(key)))
    if snap.history[:len(previous.history)] != previous.history:
        problems.append("the alias history lost or changed entries: had %d, now %d" % (
            len(previous.history), len(snap.history)))
    return problems


def _acked_key(w, snap):
    """The number the registry gave an acknowledged write, for ordering; None if not ordered."""
    if w.kind == "upload" and not w.result.get("existed"):
        return ("dataset", w.result["name"]), w.result["version"]
    if w.kind == "submit":
        return ("run",), int(w.result["id"][1:])
    if w.kind == "register":
        return ("model", w.result["name"]), w.result["version"]
    if w.kind in ("promote", "rollback"):
        rows = snap.history_by_reason.get(w.tag)
        return (("history",), rows[0]["seq"]) if rows else None
    return None


class Sent:
    """What every write so far asked for, for telling a phantom row from an in-flight write that
    landed: the tags (reasons of alias moves) and the (dataset name, SHA-256) of uploads."""

    def __init__(self):
        self.tags = set()
        self.uploads = set()

    def add(self, writes):
        for w in writes:
            self.tags.add(w.tag)
            if w.kind == "upload":
                self.uploads.add((w.request["name"], w.request["sha256"]))


def check_acknowledged(writes, snap, sent, numbers):
    """Every write of `writes` that was acknowledged is there with the content its answer gave;
    an unacknowledged one is there whole or not at all; nothing is there that no write sent
    (`sent` covers every write so far). `numbers` maps each number the registry gave an
    acknowledged write so far to that write, and is extended here (a number given twice means an
    acknowledged write was lost and its number reused)."""
    problems = []
    for w in writes:
        q, a = w.request, w.result
        if w.code == "BAD_JSON":
            problems.append("%r" % w)
        if w.kind == "upload" and w.acked:
            row = snap.datasets.get((a["name"], a["version"]))
            if (a["sha256"], a["rows"]) != (q["sha256"], q["rows"]) or row is None or \
                    (row["sha256"], row["rows"], row["deleted"]) != (q["sha256"], q["rows"], False):
                problems.append("acknowledged upload %s@%d: registry has %s, %r" % (
                    a["name"], a["version"], row, w))
        elif w.kind == "submit" and w.acked:
            seq = int(a["id"][1:])
            row = snap.runs.get(seq)
            dataset = (q["dataset"], int(a["dataset"].split("@")[1]))
            if row is None or (row["dataset"], row["formula"], row["seed"]) != \
                    (dataset, q["formula"], q["seed"]) or a["dataset"].split("@")[0] != q["dataset"]:
                problems.append("acknowledged run %s: registry has %s, %r" % (a["id"], row, w))
        elif w.kind == "register" and w.acked:
            row = snap.versions.get((a["name"], a["version"]))
            if row is None or row["run_seq"] != q["run_seq"] or a["run"] != "r%d" % q["run_seq"]:
                problems.append("acknowledged model %s v%d: registry has %s, %r" % (
                    a["name"], a["version"], row, w))
        elif w.kind in ("promote", "rollback"):
            rows = snap.history_by_reason.get(w.tag, [])
            if len(rows) > 1:
                problems.append("write %s applied %d times" % (w.tag, len(rows)))
            if w.acked:
                want = {"model": q["model"], "alias": q["alias"], "from": a["from_version"],
                        "to": a["to_version"], "action": w.kind, "reason": w.tag,
                        "forced": q.get("forced", False)}
                got = dict(rows[0]) if rows else None
                if got is not None:
                    del got["seq"]
                if got != want or (q["to_version"] is not None and a["to_version"] != q["to_version"]):
                    problems.append("acknowledged %s: history has %s, want %s" % (w.tag, got, want))
            elif rows:
                h = rows[0]
                if (h["model"], h["alias"], h["action"]) != (q["model"], q["alias"], w.kind) or \
                        (q["to_version"] is not None and h["to"] != q["to_version"]):
                    problems.append("unacknowledged %s landed as %s" % (w.tag, h))
        key = _acked_key(w, snap) if w.acked else None
        if key is not None:
            if key in numbers:
                problems.append("%r and %r were both given %s" % (numbers[key], w, key))
            numbers[key] = w
    for h in snap.history:
        if h["reason"] not in sent.tags:
            problems.append("history #%d has reason %r that no write sent" % (h["seq"], h["reason"]))
    for (name, version), d in snap.datasets.items():
        if (name, d["sha256"]) not in sent.uploads:
            problems.append("dataset %s@%d holds bytes no upload of %s sent" % (name, version, name))
    return problems


def check_real_time_order(writes, snap):
    """An acknowledged write answered before another was sent got the smaller number (run id,
    version, history position): the registry's order agrees with what clients saw."""
    problems = []
    keyed = collections.defaultdict(list)
    for w in writes:
        if w.acked:
            key = _acked_key(w, snap)
            if key is not None:
                keyed[key[0]].append((key[1], w))
    for space, items in keyed.items():
        items.sort(key=lambda item: item[1].done)
        for i, (n_a, a) in enumerate(items):
            for n_b, b in items[i + 1:]:
                if a.done < b.sent and not n_a < n_b:
                    problems.append("%s: %r answered before %r was sent, yet %d >= %d" % (
                        space, a, b, n_a, n_b))
    return problems
