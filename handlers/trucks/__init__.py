"""The trucks feature: /trucks lists an account's trucks, adds and removes them (router.py), and turns
each one's notices on or off or links them by phone (following.py); see handlers/__init__.py."""
