"""The notifications package's answers to domain events: each writes the e-mails of one kind
of news to the outbox, in the transaction that published the event."""

from __future__ import annotations

from app import events
from app.extensions import db
from app.notifications import comments, stretch, updates
from app.notifications import services as notifications
from app.projects.models import Project


def _project(project_id: int) -> Project:
    return db.session.get(Project, project_id)  # the publisher has it loaded: no query


def project_funded(event: events.ProjectFunded) -> None:
    notifications.project_funded(_project(event.project_id))


def project_failed(event: events.ProjectFailed) -> None:
    notifications.project_failed(_project(event.project_id))


def project_stopped(event: events.ProjectStopped) -> None:
    notifications.project_stopped(_project(event.project_id))


def refunds_planned(event: events.RefundsPlanned) -> None:
    notifications.refunds_planned(_project(event.project_id), event.pledge_ids)


def project_paid_out(event: events.ProjectPaidOut) -> None:
    notifications.project_paid_out(_project(event.project_id), event.net)


def payment_returned(event: events.PaymentReturned) -> None:
    notifications.payment_returned(event.pledge_id, event.payment_id, event.amount)


def pledges_refunded(event: events.PledgesRefunded) -> None:
    notifications.pledges_refunded(event.pledge_ids)


def refund_failed(event: events.RefundFailed) -> None:
    notifications.refund_failed(event.pledge_id, event.refund_id, event.amount)


def pledge_held(event: events.PledgeHeld) -> None:
    notifications.pledge_held(event.pledge_id)


def pledge_changed(event: events.PledgeChanged) -> None:
    notifications.pledge_changed(
        event.pledge_id, event.before, event.after, event.ref, event.payment_id, event.refund_ids
    )


def pledge_cancelled(event: events.PledgeCancelled) -> None:
    notifications.pledge_cancelled(event.pledge_id, event.amount, event.refund_ids)


def payment_failed(event: events.PaymentFailed) -> None:
    notifications.payment_failed(event.pledge_id, event.payment_id, event.expired)


def project_reviewed(event: events.ProjectReviewed) -> None:
    notifications.project_reviewed(_project(event.project_id), event.decision, event.reason)


def project_launched(event: events.ProjectLaunched) -> None:
    notifications.project_launched(_project(event.project_id))


def comment_posted(event: events.CommentPosted) -> None:
    comments.comment_posted(event.comment_id)


def update_published(event: events.UpdatePublished) -> None:
    updates.update_published(event.update_id, event.project_id, event.public)


def stretch_goal_reached(event: events.StretchGoalReached) -> None:
    stretch.stretch_goal_reached(event.goal_id, event.project_id)


def verification_requested(event: events.VerificationRequested) -> None:
    notifications.verification_requested(event.user_id)


def sign_up_with_taken_address(event: events.SignUpWithTakenAddress) -> None:
    notifications.sign_up_with_taken_address(event.user_id)


def password_reset_requested(event: events.PasswordResetRequested) -> None:
    notifications.password_reset_requested(event.user_id, event.serial)


def password_changed(event: events.PasswordChanged) -> None:
    notifications.password_changed(event.user_id, event.reset)


def email_change_requested(event: events.EmailChangeRequested) -> None:
    notifications.email_change_requested(event.user_id, event.new_email)


def email_changed(event: events.EmailChanged) -> None:
    notifications.email_changed(event.user_id, event.old_email, event.new_email)


HANDLERS = {
    events.ProjectFunded: project_funded,
    events.ProjectFailed: project_failed,
    events.ProjectStopped: project_stopped,
    events.RefundsPlanned: refunds_planned,
    events.ProjectPaidOut: project_paid_out,
    events.PaymentReturned: payment_returned,
    events.PledgesRefunded: pledges_refunded,
    events.RefundFailed: refund_failed,
    events.PledgeHeld: pledge_held,
    events.PledgeChanged: pledge_changed,
    events.PledgeCancelled: pledge_cancelled,
    events.PaymentFailed: payment_failed,
    events.ProjectReviewed: project_reviewed,
    events.ProjectLaunched: project_launched,
    events.CommentPosted: comment_posted,
    events.UpdatePublished: update_published,
    events.StretchGoalReached: stretch_goal_reached,
    events.VerificationRequested: verification_requested,
    events.SignUpWithTakenAddress: sign_up_with_taken_address,
    events.PasswordResetRequested: password_reset_requested,
    events.PasswordChanged: password_changed,
    events.EmailChangeRequested: email_change_requested,
    events.EmailChanged: email_changed,
}


def register() -> None:
    from app.notifications import conversations, fulfilment, reminders, staff

    for event_type, handler in HANDLERS.items():
        events.subscribe(event_type, handler)
    # Followers, askers and reporters: more than one package's news, so subscribed apart.
    events.subscribe(events.ProjectLaunched, reminders.project_launched)
    events.subscribe(events.QuestionAsked, conversations.question_asked)
    events.subscribe(events.QuestionAnswered, conversations.question_answered)
    events.subscribe(events.ReportsDecided, conversations.reports_decided)
    events.subscribe(events.RewardsShipped, fulfilment.rewards_shipped)
    events.subscribe(events.DeliveryProblemReported, fulfilment.problem_reported)
    events.subscribe(events.ReconciliationDiffers, staff.reconciliation_differs)
