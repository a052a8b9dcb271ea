"""How fast things may go: the budget of what the bot sends, as Telegram allows it, shared by every
process (`outgoing`); and how fast one account may write to the bot (`flood`)."""
