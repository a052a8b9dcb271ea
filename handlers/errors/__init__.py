"""The errors feature: router.py builds its Router; see handlers/__init__.py."""
