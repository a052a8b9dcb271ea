"""Alembic migrations of the schema in services/storage, services/notices/tables.py,
services/audit and services/support; Database.migrate() runs them."""

import services.audit.trail  # noqa: F401  (its table joins Base.metadata too)
import services.notices.tables  # noqa: F401  (its tables join Base.metadata, which env.py compares)
import services.support.tickets  # noqa: F401

# How a database is compared with the models: by env.py (`alembic check`, autogenerate) and by the
# test that keeps the models and the migrations equal, so the two cannot disagree.
COMPARE_OPTIONS = {
    "compare_type": True,
    # 0001 created server defaults; without this a model could silently lose one.
    "compare_server_default": True,
}
