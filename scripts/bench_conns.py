"""The table of scripts/bench_conns.sh: reads its measurements (lines of key=value, one per
server, count and round) on stdin and prints one row per server and count, the median of
its rounds, with the ratios of echo_poll to each server at the same count. Asserts nothing.
"""

import statistics
import sys

rows = {}  # (server, conns) -> the measurements, in the order they came
for line in sys.stdin:
    m = dict(field.split("=", 1) for field in line.split())
    m = {k: v if k == "server" else float(v) for k, v in m.items()}
    m["other_cpu"] = max(0.0, m["machine_cpu"] - m["server_cpu"] - m["client_cpu"])
    m["us_per_msg"] = m["server_cpu"] * 1e6 / m["msgs_per_sec"] if m["msgs_per_sec"] else 0.0
    rows.setdefault((m["server"], int(m["conns"])), []).append(m)


def median(runs, key):
    return statistics.median(r[key] for r in runs)


def ratio(a, b):
    return "%.2f" % (a / b) if b > 0 and a is not None else "-"


KEYS = ("msgs_per_sec", "bytes_per_conn_up", "bytes_per_conn_busy", "bytes_per_conn_peak")
print("\n%-15s %5s %6s %9s %7s %8s %8s %8s %15s | %s"
      % ("server", "conns", "rounds", "msgs/s", "CPU us", "B/conn", "B/conn", "B/conn", "CPU cores:",
         "echo_poll / this server"))
print("%-15s %5s %6s %9s %7s %8s %8s %8s %15s | %6s %6s %6s %6s"
      % ("", "", "", "", "per msg", "up", "busy", "peak", "srv/client/oth", "msgs/s", "up",
         "busy", "peak"))
for (server, conns), runs in rows.items():
    poll = rows.get(("echo_poll", conns))
    mine = [median(runs, k) for k in KEYS]
    base = [median(poll, k) for k in KEYS] if poll else [None] * len(KEYS)
    cpu = "%.2f/%.2f/%.2f" % tuple(median(runs, k) for k in ("server_cpu", "client_cpu", "other_cpu"))
    print("%-15s %5d %6d %9.0f %7.1f %8.0f %8.0f %8.0f %15s | %6s %6s %6s %6s"
          % (server, conns, len(runs), mine[0], median(runs, "us_per_msg"), *mine[1:], cpu,
             *(ratio(b, m) for b, m in zip(base, mine))))
