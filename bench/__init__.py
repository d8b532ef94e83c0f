"""Benchmarks for gigroom: `python -m bench` runs them all and prints ratios against baselines measured
in the same run (never timed assertions); `--quick` for a short run. Results also go to bench/results/.

- bench.engine: transitions per second through the real Engine, against raw sqlite3 replaying the
  exact statements the engine executed, with the same durability settings.
- bench.timers: start-up time and memory with 100,000 open orders, against one APScheduler job per
  deadline, and the lag from a deadline to its effect with the real scheduler.
"""
