#!/usr/bin/python3
"""Soak: mixed valid and hostile traffic against one zgate for a long time (10 minutes by default).

    bench/soak_attacks.py [--seconds N] [--zgate PATH]

One zgate with the attack suite's small budget runs for the whole soak. The attack cases of
tests/integration/test_attacks.py (AttackTestCase) and test_attacks_bytes.py (BytesAttackTest,
EndlessMessageTest, EmptyFramesTest, SlowSubscriberTest) run against it one after another in random order, each with
its canary doing valid round trips on every pattern throughout; every case drains what its attacker left, so
each accepted message is delivered (a case fails on any lost one). The soak fails on the first failing case, or
if zgate's RSS at the end is more than the budget above its RSS after the first round of cases (RSS flat: what
attackers take is given back). It prints one line per case and a summary.
"""
import argparse
import os
import random
import sys
import time
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
import zgate_harness  # noqa: E402
from test_attacks import BUDGET, BACKLOG_BYTES, QUEUE_BYTES, RSS_SLACK, AttackTestCase, rss  # noqa: E402
from test_attacks_bytes import (BytesAttackTest, EmptyFramesTest, EndlessMessageTest,  # noqa: E402
                                SlowSubscriberTest)


class Shared:
    """The soak's zgate and its RSS at the start."""
    zg = None
    start_rss = 0


def soak_case(case_class):
    """case_class's cases on the soak's shared zgate, their RSS measured from the soak's start."""
    class SoakCase(case_class):
        def setUp(self):
            self.zg = Shared.zg
            self.start_clients()
            self.baseline = Shared.start_rss

        def tearDown(self):
            self.stop_clients()
    return SoakCase


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=600)
    parser.add_argument("--zgate", default=os.path.join(ROOT, "build", "gateway", "zgate"))
    options = parser.parse_args()
    zgate_harness.ZGATE_BIN = options.zgate
    case_classes = (AttackTestCase, BytesAttackTest, EndlessMessageTest, EmptyFramesTest, SlowSubscriberTest)
    # Not that case: its attacker is cut once what it may cost passes the budget, so it takes up to the budget
    # itself, on top of the heap earlier cases left to malloc (RSS from the soak's start would pass the bound)
    names = [(soak_case(case_class), name) for case_class in case_classes
             for name in unittest.TestLoader().getTestCaseNames(case_class)
             if name != "test_unfinished_message_that_may_cost_the_budget_is_cut"]
    zg = zgate_harness.Zgate(server_memory_budget=BUDGET, queues_max_queue_bytes=QUEUE_BYTES,
                             rooms_max_backlog_bytes=BACKLOG_BYTES, **EndlessMessageTest.zgate_overrides,
                             **SlowSubscriberTest.zgate_overrides).start()
    Shared.zg = zg
    try:
        Shared.start_rss = rss(zg.process.pid)
        deadline = time.monotonic() + options.seconds
        cases, settled = 0, None
        while time.monotonic() < deadline or cases < len(names):
            case_class, name = names[cases % len(names)] if cases < len(names) else random.choice(names)
            result = unittest.TestResult()
            case_class(name).run(result)
            cases += 1
            now = rss(zg.process.pid)
            print(f"{cases:5d} {name:45s} rss {now >> 20} MB", flush=True)
            for _, trace in result.failures + result.errors:
                print(trace, file=sys.stderr)
                return 1
            if cases == len(names):
                settled = now
        final = rss(zg.process.pid)
        print(f"soak: {cases} cases in {options.seconds:.0f} s; zgate RSS {Shared.start_rss >> 20} MB at start, "
              f"{settled >> 20} MB after the first round, {final >> 20} MB at the end")
        if final - settled > BUDGET + RSS_SLACK:
            print("soak: RSS is not flat", file=sys.stderr)
            return 1
        return 0
    finally:
        zg.stop()


if __name__ == "__main__":
    sys.exit(main())
