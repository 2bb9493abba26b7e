"""Background work of the users app."""

from __future__ import annotations

from celery import shared_task

from apps.users import email_change, recovery


# At most once: acknowledged on receipt and never retried, so a worker dying mid-send
# or a redelivered message cannot email the same link twice (the user can ask again).
@shared_task(acks_late=False, ignore_result=True)
def password_recovery_send(email: str) -> bool:
    """Send the recovery email to `email` if an active account has it."""
    return recovery.password_recovery_send(email=email)


# At most once, like the recovery email.
@shared_task(acks_late=False, ignore_result=True)
def email_change_send(user_id: str, new_email: str) -> str | None:
    """Email a confirmation link to `new_email`, or a notice to its owner if taken."""
    return email_change.email_change_send(user_id=user_id, new_email=new_email)
