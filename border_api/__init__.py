"""The border system's HTTP API, beside the bot and independent of Telegram: its routes (`routes`),
signed requests and the endpoints over the domain services (`endpoints`), its settings
(`settings`) and its OpenAPI document (`openapi`). It imports `services` only; `bot` serves it, in
`nobat run` beside the webhook and alone in `nobat api`."""
