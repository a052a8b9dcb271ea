"""`python -m bench NAME`: benchmarks that print one JSON line per measured configuration."""

from __future__ import annotations

import argparse
import asyncio

from bench import booking
from bench import bot

BENCHES = {
    "booking": lambda args: booking.main(accounts=args.accounts, slots=args.slots, seed=args.seed),
    "bot": lambda args: bot.main(users=args.users, drivers=args.drivers),
}


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("name", choices=sorted(BENCHES))
    parser.add_argument("--accounts", type=int, default=5000)
    parser.add_argument("--slots", type=int, default=250)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--users", type=int, default=1000, help="bot: people in each step's burst")
    parser.add_argument("--drivers", type=int, default=5000, help="bot: drivers in the midnight rush")
    args = parser.parse_args()
    asyncio.run(BENCHES[args.name](args))


if __name__ == "__main__":
    main()
