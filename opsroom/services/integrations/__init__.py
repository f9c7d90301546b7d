"""Integrations: chat-group robots, signed webhooks (targets, outbox, sender)
and the 抖店 order push. The pure rules (signatures, messages, rate limits,
push parsing) are `opsroom/domain/integrations/`."""
