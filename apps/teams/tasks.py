"""Background work of the teams app."""

from __future__ import annotations

from celery import shared_task

from apps.teams.services import invitations


# At most once, like the password recovery email: a redelivered message must not mail a
# second link (each send makes a new token, which would void the first).
@shared_task(acks_late=False, ignore_result=True)
def invitation_send(invitation_id: str) -> bool:
    """Email the invitation's link if it is still pending."""
    return invitations.invitation_send(invitation_id=invitation_id)
