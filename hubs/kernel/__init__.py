"""The kernel every app builds on, the one place for each shared mechanism.

- `errors`: `DomainError`, a business rule's refusal (the API answers 400, the portal a form error).
- `money`: the project's money precision and its one rounding rule.
- `ids`: `PublicIdField`, readable prefixed ids (`ORD-…`) assigned on save.
- `audit`: audit events, their verbs and the sentences a timeline reads.
- `transitions`: `transition()`, the one service every state machine changes state through.
- `idempotency`: `claim(scope, key)` to do a piece of work once, and the API's `Idempotency-Key`.
- `background`: `enqueue_on_commit`, how work reaches the Celery workers.
- `api`: the base API viewsets (scoped, idempotent POSTs) and the API's money field.

It lives in `hubs` because audit events are filed under hubs and companies; it imports no other app.
"""
