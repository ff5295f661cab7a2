"""Summarizes an Autobahn|Testsuite report per section; exits 1 unless every case is OK
(or INFORMATIONAL, which some cases are by design). Runs on Python 2.7 and 3."""
from __future__ import print_function

import collections
import json
import sys

GOOD = ("OK", "INFORMATIONAL")


def case_key(case_id):
    return [int(part) for part in case_id.split(".")]


def main():
    role, path = sys.argv[1], sys.argv[2]
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
        if behavior in GOOD and close in GOOD:
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
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
