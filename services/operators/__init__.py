"""What the queue's operators do about abuse (`abuse`): ban an account, annul a booking, see who
hoards, and the day's figures of a checkpoint."""
