"""The booking engine and its rules (booking rules 1-7 of docs/architecture.md): showing a time
(`offers`, `calendar`), Next (`engine`: orchestration, `take_reads`: the rows a batch reads under
its locks, `takes`: the pure decision, `take_writes`: what a batch writes, per database), Confirm
(`confirmations`), Cancel (`cancellations`), expiry and the random release of freed places
(`release`), fair access (`fairness`), the answers (`outcomes`, `reservations`), and the reminder
before the time (`reminders`)."""
