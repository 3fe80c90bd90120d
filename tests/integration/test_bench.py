"""Issue 11: lwk-bench drives a real lwkd end to end. Not a timed test: a
short run that proves the bench works (connections, the session flow,
submissions, kiosk latency, the JSON report), over TCP and the Unix socket."""
import json
import os
import subprocess

from lwktest import SRC, Daemon, run

BENCH = os.environ.get("LWK_BENCH", os.path.join(SRC, "build", "client", "lwk-bench"))


def bench(d, *args):
    e = d.env()
    r = subprocess.run([BENCH, "--token", d.admin_token, "--lwkd-pid", str(d.proc.pid),
                        "--idle", "0.2"] + list(args),
                       env=e, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, "rc=%d\n%s\n%s" % (r.returncode, r.stdout, r.stderr)
    return json.loads(r.stdout), r.stderr


def check(rep, connections):
    assert rep["ok"] is True, rep
    assert rep["errors"] == 0 and rep["errors_by_code"] == {}, rep
    assert rep["drops"] == 0 and rep["kiosk_missing"] == 0, rep
    assert rep["connections"] == connections, rep
    assert rep["submissions"] > 0 and rep["submissions_acked"] == rep["submissions"], rep
    lat = rep["latency_ms"]
    for k in ("p50", "p99", "p999", "max"):
        assert k in lat and lat[k] >= 0, lat
    assert lat["count"] == rep["submissions"], rep
    assert rep["kiosk_events"] >= rep["submissions"], rep
    assert rep["events_delivered"] > rep["kiosk_events"], rep
    assert rep["lwkd"]["rss_idle_kib"] > 0, rep


def bench_runs_the_flow_and_measures_kiosk_latency():
    d = Daemon("")
    try:
        rep, err = bench(d, "--sessions", "3", "--participants", "5", "--duration", "2", "--json")
        check(rep, 3 * 7)
        assert rep["target"] == "lwkd" and rep["transport"] == "tcp", rep
        assert "submission -> kiosk" in err, err  # the table goes to stderr with --json
    finally:
        assert d.stop() == 0, d.logtext()


def bench_closed_loop_over_the_unix_socket():
    # Closed loop sends as fast as replies come: lift the per-connection rate limit.
    d = Daemon("", extra=["--set", "rate_limit_rps=100000", "--set", "rate_limit_burst=100000"])
    try:
        rep, _ = bench(d, "--socket", d.sock_path, "--sessions", "2", "--participants", "4",
                       "--duration", "1", "--closed", "--json")
        check(rep, 2 * 6)
        assert rep["transport"] == "unix" and rep["mode"] == "closed", rep
        # Rounds went through reveal, explanations, themes, actions and re-scores.
        assert rep["rounds_revealed"] > 8, rep
    finally:
        assert d.stop() == 0, d.logtext()


def bench_reads_participants_in_batches_or_as_frames_arrive():
    # Participants and facilitators are read in batches by default (open loop):
    # the flow still advances on their replies and every kiosk copy is matched.
    d = Daemon("", extra=["--set", "rate_limit_rps=100000", "--set", "rate_limit_burst=100000"])
    try:
        args = ["--socket", d.sock_path, "--sessions", "2", "--participants", "4", "--json"]
        open_loop = ["--duration", "2", "--rate", "40"]
        rep, err = bench(d, *args, *open_loop)
        check(rep, 2 * 6)
        assert rep["participant_read_ms"] == 2 and rep["rounds_revealed"] > 0, rep
        assert "in batches, 2 ms after a request" in err, err
        rep, err = bench(d, *args, *open_loop, "--participant-read-ms", "0")
        check(rep, 2 * 6)
        assert rep["participant_read_ms"] == 0 and rep["rounds_revealed"] > 0, rep
        assert "as frames arrive" in err, err
        # The closed loop reads at once by default; in batches its replies come late but come.
        rep, _ = bench(d, *args, "--duration", "1", "--closed", "--participant-read-ms", "5")
        check(rep, 2 * 6)
        assert rep["participant_read_ms"] == 5 and rep["rounds_revealed"] > 0, rep
    finally:
        assert d.stop() == 0, d.logtext()


def bench_reports_a_table_by_default():
    d = Daemon("")
    try:
        e = d.env()
        r = subprocess.run([BENCH, "--token", d.admin_token, "--sessions", "1",
                            "--participants", "3", "--duration", "1", "--idle", "0.1"],
                           env=e, capture_output=True, text=True, timeout=60)
        assert r.returncode == 0, r.stdout + r.stderr
        assert "submission -> kiosk" in r.stdout and "errors                       0" in r.stdout, r.stdout
    finally:
        assert d.stop() == 0, d.logtext()


if __name__ == "__main__":
    run([bench_runs_the_flow_and_measures_kiosk_latency, bench_closed_loop_over_the_unix_socket,
         bench_reads_participants_in_batches_or_as_frames_arrive, bench_reports_a_table_by_default])
