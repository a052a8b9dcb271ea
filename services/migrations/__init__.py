"""Alembic migrations of the schema: the tables of services/storage/models.py and those each domain
keeps beside its code (services/accounts/follow_tables.py, services/audit/trail.py,
services/notices/tables.py, services/support/tables.py); Database.migrate() runs them.

A package beside storage, not in it: it reads every domain's tables, and storage is below them all.
"""

# Their tables join Base.metadata, which env.py and the models-versus-migrations test compare.
import services.accounts.follow_tables  # noqa: F401
import services.audit.trail  # noqa: F401
import services.notices.tables  # noqa: F401
import services.outbox.tables  # noqa: F401
import services.support.tables  # noqa: F401

# How a database is compared with the models: by env.py (`alembic check`, autogenerate) and by the
# test that keeps the models and the migrations equal, so the two cannot disagree.
COMPARE_OPTIONS = {
    "compare_type": True,
    # 0001 created server defaults; without this a model could silently lose one.
    "compare_server_default": True,
}
