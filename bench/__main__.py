"""`python -m bench NAME`: benchmarks that print one JSON line per measured configuration."""

from __future__ import annotations

import argparse
import asyncio

from bench import booking

BENCHES = {"booking": booking.main}


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("name", choices=sorted(BENCHES))
    parser.add_argument("--accounts", type=int, default=5000)
    parser.add_argument("--slots", type=int, default=250)
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()
    asyncio.run(BENCHES[args.name](accounts=args.accounts, slots=args.slots, seed=args.seed))


if __name__ == "__main__":
    main()
