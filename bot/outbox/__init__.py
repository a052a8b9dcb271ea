"""The outbox's sender (`sender.OutboxSender`): one loop that claims the rows of `services.outbox`,
has each rendered and sent by the renderer of its kind, and records what Telegram answered, judged
by one mapping (`answers.judge`) and one retry policy."""
