"""What every domain package shares: time as a dependency (`clock`), group commit (`batching`), the
cache of rows read lately and its invalidation across processes (`cache`, `invalidations`), and the
queue as an operator configures it: checkpoints, booking limits, languages (`rules`). Imports no
other package of `services`."""
