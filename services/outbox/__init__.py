"""The one outbox for everything the bot says on its own (`outbox.Outbox`), its table, and the
verdicts a sender records."""
