"""Support tickets: the tables (`tables`), their plain views (`views`), the service that opens,
closes and routes them (`tickets`), and the messages still to be copied, as the sender claims them
(`outbox`)."""
