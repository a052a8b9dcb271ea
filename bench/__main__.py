"""`python -m bench NAME`: benchmarks that print one JSON line per measured configuration."""

from __future__ import annotations

import argparse
import asyncio

from bench import booking, bot, fairness, notices, support
from border_api.routes import MAX_EVENTS_PER_REQUEST

BENCHES = {
    "booking": lambda args: booking.main(accounts=args.accounts, slots=args.slots, seed=args.seed),
    "bot": lambda args: bot.main(users=args.users, drivers=args.drivers or 5000),
    "fairness": lambda args: fairness.main(honest=args.honest, scalpers=args.scalpers, sessions=args.sessions,
                                           hours=args.hours, round_minutes=args.round_minutes, seed=args.seed),
    "notices": lambda args: notices.main(trucks=args.trucks, events=args.events, rate=args.rate, batch=args.batch),
    "support": lambda args: support.main(drivers=args.drivers or 500, agents=args.agents, messages=args.messages,
                                         rate=args.rate, group_rate=args.group_rate),
}


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("name", choices=sorted(BENCHES))
    parser.add_argument("--accounts", type=int, default=5000)
    parser.add_argument("--slots", type=int, default=250)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--users", type=int, default=1000, help="bot: people in each step's burst")
    parser.add_argument("--drivers", type=int, default=None,
                        help="bot: drivers in the midnight rush (5000); support: drivers writing at once (500)")
    parser.add_argument("--trucks", type=int, default=2000, help="notices: trucks, one chat following each")
    parser.add_argument("--events", type=int, default=10_000, help="notices: events posted (five per truck)")
    parser.add_argument("--batch", type=int, default=None,
                        help="notices: also post the events this many a request (at most "
                             f"{MAX_EVENTS_PER_REQUEST}), after a run of one a request")
    parser.add_argument("--rate", type=float, default=1000.0,
                        help="notices, support: messages a second Telegram allows the bot (and the server enforces)")
    parser.add_argument("--group-rate", type=float, default=1200.0,
                        help="support: messages a minute Telegram allows into one group (its own: 20)")
    parser.add_argument("--agents", type=int, default=5, help="support: agents answering in the group")
    parser.add_argument("--messages", type=int, default=2, help="support: messages each driver writes")
    parser.add_argument("--honest", type=int, default=500, help="fairness: honest drivers, one truck each for tomorrow")
    parser.add_argument("--scalpers", type=int, default=20, help="fairness: scalper accounts")
    parser.add_argument("--sessions", type=int, default=50, help="fairness: booking windows each scalper taps in")
    parser.add_argument("--hours", type=float, default=24, help="fairness: the simulated day's length")
    parser.add_argument("--round-minutes", type=int, default=5,
                        help="fairness: simulated minutes between rounds of taps")
    args = parser.parse_args()
    if args.batch is not None and not 2 <= args.batch <= MAX_EVENTS_PER_REQUEST:
        parser.error(f"--batch takes 2 to {MAX_EVENTS_PER_REQUEST} events a request")
    asyncio.run(BENCHES[args.name](args))


if __name__ == "__main__":
    main()
