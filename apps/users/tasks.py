"""Background work of the users app."""

from __future__ import annotations

from celery import shared_task

from apps.users import recovery


# At most once: acknowledged on receipt and never retried, so a worker dying mid-send
# or a redelivered message cannot email the same link twice (the user can ask again).
@shared_task(acks_late=False, ignore_result=True)
def password_recovery_send(email: str) -> bool:
    """Send the recovery email to `email` if an active account has it."""
    return recovery.password_recovery_send(email=email)
