"""The hash-chained audit trail (`trail`): every action of a driver, agent, operator, worker or the
border system leaves its record in the transaction that does it."""
