"""Who the bot is and how it gets updates: getMe, long polling with getUpdates, webhooks."""

from __future__ import annotations

from typing import Any

from local_bot_api.errors import ApiError
from local_bot_api.limits import MAX_LONG_POLL_SECONDS
from local_bot_api.webhook import check_secret_token, check_webhook_url
from local_bot_api.wire import Params

# Telegram leaves these out of getUpdates unless allowed_updates names them.
_DEFAULT_EXCLUDED_UPDATES = {"chat_member", "message_reaction", "message_reaction_count"}


class UpdateMethods:
    """getMe, logOut/close, getUpdates and the webhook methods; a mixin of `BotAPIServer`."""

    async def _true(self, params: Params) -> bool:
        return True

    async def _get_me(self, params: Params) -> dict[str, Any]:
        return {
            **self.bot_user(),
            "can_join_groups": True,
            "can_read_all_group_messages": True,  # every group message reaches the bot here
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    async def _get_updates(self, params: Params) -> list[dict[str, Any]]:
        """Long polling with Telegram's semantics.

        Updates stay queued until confirmed by a later call with ``offset`` above their id; a
        negative offset keeps only the last ``-offset`` ones.  ``allowed_updates`` is remembered
        across calls (as on Telegram) and updates of other types are dropped.  A new getUpdates
        ends an older one still waiting (Telegram answers that one 409; here it gets []).
        """
        if self.webhook.url:
            raise ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        offset = params.int("offset")
        limit = min(100, max(1, params.int("limit") or 100))
        timeout = max(0.0, params.float("timeout") or 0.0)
        self._remember_allowed_updates(params)
        if offset is not None and offset < 0:
            self._updates = self._updates[offset:]
        elif offset:
            self._updates = [u for u in self._updates if u["update_id"] >= offset]

        self._poll_generation += 1
        generation = self._poll_generation
        self._feed.notify()  # supersede an older poll

        def ready() -> list[dict[str, Any]] | None:
            self._drop_disallowed_updates()
            if self._updates:
                return self._updates[:limit]
            if self._stopping or generation != self._poll_generation:
                return []
            return None

        try:
            batch = await self._feed.wait_until(ready, min(timeout, MAX_LONG_POLL_SECONDS))
        except TimeoutError:
            batch = []
        if batch:
            self._fetched_update_id = max(self._fetched_update_id, batch[-1]["update_id"])
            self._feed.notify()
        # No copy: the answer is serialised before anything else runs, and a bot that polls with
        # updates in flight gets the same ones again and again.
        return batch

    def _remember_allowed_updates(self, params: Params) -> None:
        """Telegram keeps the last allowed_updates given, to getUpdates or setWebhook alike."""
        if "allowed_updates" in params.values:
            allowed = params.json("allowed_updates", error="can't parse allowed_updates JSON object")
            self._allowed_updates = set(allowed) if allowed else None

    def _drop_disallowed_updates(self) -> None:
        allowed = self._allowed_updates

        def deliverable(update: dict[str, Any]) -> bool:
            kind = next(key for key in update if key != "update_id")
            return kind in allowed if allowed is not None else kind not in _DEFAULT_EXCLUDED_UPDATES

        self._updates = [update for update in self._updates if deliverable(update)]

    async def _set_webhook(self, params: Params) -> bool:
        """Updates are posted to `url` from now on (`local_bot_api.webhook`); an empty url deletes it."""
        url = params.str("url") or ""
        secret = params.str("secret_token")
        if url:
            check_webhook_url(url)
        if secret is not None:
            check_secret_token(secret)
        self._remember_allowed_updates(params)
        if params.bool("drop_pending_updates"):
            self._updates.clear()
        max_connections = min(100, max(1, params.int("max_connections") or 40))
        self.webhook.configure(url, secret or None, max_connections)
        return True

    async def _delete_webhook(self, params: Params) -> bool:
        if params.bool("drop_pending_updates"):
            self._updates.clear()
        self.webhook.configure("", None, self.webhook.max_connections)
        return True

    async def _get_webhook_info(self, params: Params) -> dict[str, Any]:
        info: dict[str, Any] = {
            "url": self.webhook.url,
            "has_custom_certificate": False,
            "pending_update_count": len(self._updates),
        }
        if self.webhook.url:
            info["max_connections"] = self.webhook.max_connections
        if self.webhook.last_error is not None:
            info["last_error_date"], info["last_error_message"] = self.webhook.last_error
        if self._allowed_updates is not None:
            info["allowed_updates"] = sorted(self._allowed_updates)
        return info
