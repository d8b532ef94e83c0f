"""Run the benchmarks: `python -m bench [engine] [timers] [slack] [relay] [--quick]`; all of them when none is named."""

import argparse
import json
import os
import sys
import time
from importlib import import_module

BENCHMARKS = ("engine", "timers", "slack", "relay")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("names", nargs="*", metavar="NAME",
                        help=f"benchmarks to run, of: {', '.join(BENCHMARKS)} (default: all)")
    parser.add_argument("--quick", action="store_true", help="a smaller, shorter run (about 2 minutes in all)")
    parser.add_argument("--orders", type=int, default=None,
                        help="timers: how many open orders (default 100,000; 10,000 with --quick)")
    parser.add_argument("--child", help=argparse.SUPPRESS)  # a measurement in a fresh process (bench.timers)
    args = parser.parse_args(argv)
    unknown = [name for name in args.names if name not in BENCHMARKS]
    if unknown:
        parser.error(f"unknown benchmark {', '.join(unknown)}: choose from {', '.join(BENCHMARKS)}")
    if args.child:
        from bench.timers import child_main

        return child_main(json.loads(args.child))

    started = time.perf_counter()
    load_before = os.getloadavg()
    summaries: list[str] = []
    for name in args.names or BENCHMARKS:
        module = import_module(f"bench.{name}")
        options = {"orders": args.orders} if name == "timers" and args.orders else {}
        result = module.run(quick=args.quick, **options)
        summaries.extend(result["summary"])
        print(flush=True)
    load_after = os.getloadavg()
    print(f"== summary ({'quick' if args.quick else 'full'} run, {time.perf_counter() - started:.0f} s, "
          f"{os.cpu_count()} CPUs, load average {load_before[0]:.1f} before and {load_after[0]:.1f} after; "
          "ratios against baselines measured in this run)")
    for line in summaries:
        print(f"   {line}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
