"""Taps from outside the private chat (groups, inline messages): router.py; see handlers/__init__.py."""
