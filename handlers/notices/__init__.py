"""Status notices: the live status card of a crossing and the messages that ring (no router: the
sender worker in `bot/notices.py` sends these, no update asks for them)."""
