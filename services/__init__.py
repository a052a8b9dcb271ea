"""The domain: every rule of the queue, in plain Python over SQL and Redis, with no Telegram in it.

Grouped by domain, each package below the ones that use it (pyproject.toml's import contracts keep
the order; tests/unit/test_layers.py checks them):

    container.py   every service built over one database, one clock and one set of rules
    migrations/    the schema's history (Alembic), over every domain's tables
    operators/     what operators do about abuse: bans, annulments, the hoarders, the day's figures
    support/       tickets between drivers and agents, and the messages still to be copied
    notices/       the border system's events, their deliveries (the outbox) and status cards
    booking/       the booking engine: offers, takes, holds, bookings, releases, fair access
    accounts/      accounts, their trucks and plates, and who follows which truck
    audit/         the hash-chained audit trail
    limits/        the outgoing budget Telegram allows, and the flood limit per account
    storage/       the database: core tables, engine, unavailability, the polling inbox
    kernel/        clock, group commit, row caches, and the queue's configured rules
"""
