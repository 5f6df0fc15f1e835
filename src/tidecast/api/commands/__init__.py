"""The user command surface of seed 003 (Karaoke Mugen style).

``POST /api/command`` with ``{"cmd", "body": {"body", "authorization", "onlineAuthorization"}}``
and the same commands over Socket.IO (event name = command, reply in the ack), both
answering the ``{err, data}`` envelope; ``POST /api/importFile`` for avatars.
"""
