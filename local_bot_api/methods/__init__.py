"""The Bot API methods the server answers, one module a group, each a mixin of `BotAPIServer`.

A mixin holds the methods of its group and the checks only they use; the state they read and
change (chats, updates, queries) is the server's, set up in `BotAPIServer.__init__`, and the
method table that names them for the wire is `BotAPIServer._method_table`.
"""
