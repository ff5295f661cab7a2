"""Summarizes an Autobahn|Testsuite report per section; exits 1 unless every case is OK
(or INFORMATIONAL for the cases that are informational by design), and, given an expected
case count, unless the report has exactly that many cases. Runs on Python 2.7 and 3.

    autobahn_summary.py ROLE REPORT_JSON [EXPECTED_CASES]
"""
from __future__ import print_function

import collections
import json
import sys

# The only cases the suite itself reports as INFORMATIONAL (they test behaviour RFC 6455
# leaves open); INFORMATIONAL anywhere else is a failure.
INFORMATIONAL_BY_DESIGN = ("7.1.6", "7.13.1", "7.13.2")


def case_key(case_id):
    return [int(part) for part in case_id.split(".")]


def main():
    role, path = sys.argv[1], sys.argv[2]
    expected = int(sys.argv[3]) if len(sys.argv) > 3 else None
    try:
        with open(path) as f:
            report = json.load(f)
    except (IOError, OSError, ValueError) as e:
        print("autobahn %s: no report at %s (%s)" % (role, path, e))
        return 1
    cases = report.get("wsio", {})
    if not cases:
        print("autobahn %s: the report has no cases for agent wsio" % role)
        return 1

    sections = collections.OrderedDict()
    bad = []
    for case_id in sorted(cases, key=case_key):
        result = cases[case_id]
        behavior, close = result["behavior"], result["behaviorClose"]
        section = case_id.split(".")[0]
        counts = sections.setdefault(section, collections.Counter())
        good = ("OK", "INFORMATIONAL") if case_id in INFORMATIONAL_BY_DESIGN else ("OK",)
        if behavior in good and close in good:
            counts[behavior] += 1
        else:
            counts["not OK"] += 1
            bad.append((case_id, behavior, close))

    print("%-8s %6s %6s %14s %7s" % ("section", "cases", "OK", "INFORMATIONAL", "not OK"))
    total = collections.Counter()
    for section, counts in sections.items():
        n = sum(counts.values())
        total.update(counts)
        print("%-8s %6d %6d %14d %7d" % (section, n, counts["OK"], counts["INFORMATIONAL"], counts["not OK"]))
    for case_id, behavior, close in bad:
        print("  case %s: behavior %s, close %s" % (case_id, behavior, close))
    n = sum(total.values())
    print("autobahn %s: %d cases: %d OK, %d INFORMATIONAL, %d not OK"
          % (role, n, total["OK"], total["INFORMATIONAL"], total["not OK"]))
    if expected is not None and n != expected:
        print("autobahn %s: expected %d cases, the report has %d (a run cut short?)"
              % (role, expected, n))
        return 1
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
