"""The trucks feature: /trucks lists an account's trucks in pages, each with its menu (its notices, its
trailer, its removal), and adds them (router.py); the trucks registered with the driver's phone have
their own menu, and are linked by phone (following.py); see handlers/__init__.py."""
