"""The SQL database: the core tables (`models`), the engine and its two dialects (`database`), what
counts as the database being unavailable (`unavailable`), and the polling inbox kept in it (`inbox`).
The schema's history is `services/migrations`, beside this package: it reads every domain's tables."""
