"""Pure core of the integrations: chat-group robots (WeCom, DingTalk, Feishu),
signed outbound webhooks (Standard Webhooks) and the 抖店 order push.

Nothing here touches the network, the database or Flask: every function takes
the clock ("now", epoch seconds) and the secrets as arguments, so the outbox
sender and the routes can call it and tests can pin it down exactly.

- ``signing``: signatures of every platform, and their verification.
- ``doudian``: parse and verify a 抖店 message push into normalised events.
- ``messages``: an opsroom event -> a short Chinese ``Notice``.
- ``robots``: a ``Notice`` -> the HTTP request of each robot; response codes.
- ``throttle``: what to send now under each robot's rate limit, digests, backoff.
"""
