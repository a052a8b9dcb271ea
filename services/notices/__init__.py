"""Notices instead of SMS: the events the border system posts (`events`), what they are and which
ring (`types`), their tables (`tables`: events, deliveries, status cards), the status card's time
line as plain values (`cards`), and the deliveries as the sender works them (`sender`)."""
