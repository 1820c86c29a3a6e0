"""Writes of the utlämnande flow: attach documents, request, take, release, refuse.

Each step is one transaction; the state changes are conditional UPDATEs, so two officers taking
the same request, or two colleagues requesting the same decision, end with exactly one winner.
The requester is told by e-mail once the transaction has committed (``transaction.on_commit``):
a step rolled back, by itself or by the caller's transaction, sends nothing.
"""

import functools
import logging
import smtplib

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from access.services import language_of
from documents.models import DecisionDocument, DecisionRequest, documents_storage, stored_name
from documents.uploads import checked_pdf
from register import validation
from register.models import Decision

State = DecisionRequest.State
logger = logging.getLogger(__name__)
REASON_MAX_LENGTH = 2000


def _document(decision: Decision) -> DecisionDocument:
    document, _created = DecisionDocument.objects.select_for_update().get_or_create(
        decision=decision
    )
    return document


def _text(value: str, *, field: str, required: bool = False) -> str:
    value = (value or "").strip()
    if required and not value:
        raise ValidationError({field: _("Fältet måste fyllas i.")})
    if len(value) > REASON_MAX_LENGTH:
        raise ValidationError({field: _("Högst %(n)s tecken.") % {"n": REASON_MAX_LENGTH}})
    try:
        validation.public_text(value)
    except ValidationError:
        raise ValidationError(
            {field: _("Skriv inte personnummer här: texten sparas och visas för flera.")}
        ) from None
    return value


@transaction.atomic
def attach_full_decision(
    *, decision: Decision, upload: UploadedFile | None, user
) -> DecisionDocument:
    upload = checked_pdf(upload)
    document = _document(decision)
    document.full_file.save(upload.name, upload, save=False)
    document.full_uploaded_by = user
    document.full_uploaded_at = timezone.now()
    document.save()
    return document


@transaction.atomic
def clear_release_copy(
    *, decision: Decision, upload: UploadedFile | None, user, partial: bool, note: str = ""
) -> DecisionDocument:
    """The release copy after sekretessprövning, with who cleared it and when."""
    note = _text(note, field="note", required=partial)
    upload = checked_pdf(upload)
    document = _document(decision)
    document.release_file.save(upload.name, upload, save=False)
    document.release_partial = partial
    document.release_note = note
    document.cleared_by = user
    document.cleared_at = timezone.now()
    document.save()
    return document


def automatic_release_copy(decision: Decision) -> DecisionDocument | None:
    """With DECISION_RELEASE=automatic, the cleared copy a user may download at once."""
    if settings.DECISION_RELEASE != "automatic":
        return None
    document = DecisionDocument.objects.filter(decision=decision).first()
    return document if document is not None and document.release_cleared else None


def open_request_exists_error(decision: Decision) -> ValidationError:
    return ValidationError(
        _(
            "Er kommun har redan en öppen begäran om beslut %(dnr)s. Ni får besked när den är "
            "prövad; se Begärda beslut."
        )
        % {"dnr": decision.diarienummer}
    )


def request_decision(*, decision: Decision, user, reason: str = "") -> DecisionRequest:
    """A request from the user's socialnämnd; refused while one from the same kommun is open."""
    municipality = user.account.municipality
    reason = _text(reason, field="reason")
    if DecisionRequest.objects.filter(
        decision=decision, municipality=municipality, state__in=DecisionRequest.OPEN_STATES
    ).exists():
        raise open_request_exists_error(decision)
    try:
        with transaction.atomic():
            return DecisionRequest.objects.create(
                decision=decision,
                municipality=municipality,
                requested_by=user,
                requester_email=user.email,
                reason=reason,
                state=State.RECEIVED,
            )
    except IntegrityError:  # a colleague's request committed between the check and the insert
        raise open_request_exists_error(decision) from None


# Lazy: read when raised, in the language of the page that raised it (not the language that was
# active when the module was first imported).
ALREADY_DECIDED = gettext_lazy("Begäran är redan avgjord.")


@transaction.atomic
def take(*, request_id, officer) -> DecisionRequest:
    """One officer takes the request; of two at the same moment exactly one succeeds."""
    now = timezone.now()
    taken = DecisionRequest.objects.filter(
        public_id=request_id, state=State.RECEIVED, handler__isnull=True
    ).update(state=State.IN_REVIEW, handler=officer, taken_at=now)
    item = DecisionRequest.objects.select_related("handler").get(public_id=request_id)
    if not taken:
        if item.state in DecisionRequest.DECIDED_STATES:
            raise ValidationError(ALREADY_DECIDED)
        if item.handler_id == officer.pk:
            return item
        raise ValidationError(
            _("Begäran har redan tagits av %(name)s.") % {"name": item.handler.get_username()}
        )
    # The conditional UPDATE leaves no history row; write the one the history would have.
    item.save(update_fields=["state"])
    return item


@transaction.atomic
def hand_back(*, item: DecisionRequest, officer) -> DecisionRequest:
    """Back to the queue, untaken: by its officer, or by an IVO administrator when the officer
    is away (otherwise the request, and the municipality's next one, would wait for good)."""
    from access.roles import Role, role_of

    item = _locked(item)
    if item.state != State.IN_REVIEW:
        raise ValidationError(ALREADY_DECIDED if item.decided_at else _("Begäran är inte tagen."))
    if item.handler_id != officer.pk and role_of(officer) != Role.IVO_ADMIN:
        raise ValidationError(
            _("Bara handläggaren eller en IVO-administratör kan lämna tillbaka begäran.")
        )
    item.state, item.handler, item.taken_at = State.RECEIVED, None, None
    item.save(update_fields=["state", "handler", "taken_at"])
    return item


def _locked(item: DecisionRequest) -> DecisionRequest:
    return (
        DecisionRequest.objects.select_for_update()
        .select_related("decision__facility")
        .get(pk=item.pk)
    )


def _decide(item: DecisionRequest, officer, **changes) -> DecisionRequest:
    decided = DecisionRequest.objects.filter(
        pk=item.pk, state=State.IN_REVIEW, handler=officer
    ).update(decided_at=timezone.now(), **changes)
    if not decided:  # _must_handle holds the row locked: not reached
        raise ValidationError(ALREADY_DECIDED)
    item.refresh_from_db()
    item.save(update_fields=["state"])  # the history row
    return item


def _must_handle(item: DecisionRequest, officer) -> DecisionRequest:
    """The request as it is now (locked until the commit), if this officer may decide it."""
    item = _locked(item)
    if item.state in DecisionRequest.DECIDED_STATES:
        raise ValidationError(ALREADY_DECIDED)
    if item.state != State.IN_REVIEW or item.handler_id != officer.pk:
        raise ValidationError(_("Bara den handläggare som har tagit begäran kan avgöra den."))
    return item


@transaction.atomic
def release(
    *,
    item: DecisionRequest,
    officer,
    upload: UploadedFile | None,
    partial: bool,
    note: str = "",
    link: str,
) -> DecisionRequest:
    """Release the cleared copy (uploaded now, or cleared earlier) to the requester, and tell
    them by e-mail once the transaction has committed: a mail is never sent for a release that
    did not happen, whatever transaction the caller runs this in.

    A copy uploaded here is cleared for this request only: it is kept on the request, never
    made the decision's copy for everyone (that is its own step, clear_release_copy)."""
    item = _must_handle(item, officer)
    note = _text(note, field="note", required=partial)
    if upload:
        upload = checked_pdf(upload)
        released = documents_storage().save(stored_name(None, upload.name), upload)
    else:
        document = DecisionDocument.objects.filter(decision=item.decision).first()
        if document is None or not document.release_cleared:
            raise ValidationError({"upload": _("Ladda upp den sekretessprövade kopian (PDF).")})
        if partial != document.release_partial:
            raise ValidationError(
                {
                    "outcome": _(
                        "Den sekretessprövade kopian som finns är delvis maskerad; välj delvis "
                        "utlämnande eller ladda upp en ny kopia."
                    )
                    if document.release_partial
                    else _(
                        "Den sekretessprövade kopian som finns är hel; välj att lämna ut hela "
                        "beslutet eller ladda upp en maskerad kopia."
                    )
                }
            )
        released = document.release_file.name
        note = note or document.release_note
    item = _decide(
        item,
        officer,
        state=State.PARTLY_RELEASED if partial else State.RELEASED,
        outcome_text=note if partial else "",
        released_file=released,
    )
    _tell_requester(item, link)
    return item


@transaction.atomic
def refuse(*, item: DecisionRequest, officer, reason: str, link: str) -> DecisionRequest:
    """Refuse the request, and tell the requester once the transaction has committed."""
    item = _must_handle(item, officer)
    reason = _text(reason, field="reason", required=True)
    item = _decide(item, officer, state=State.REFUSED, outcome_text=reason)
    _tell_requester(item, link)
    return item


def _tell_requester(item: DecisionRequest, link: str) -> None:
    """The mail, written now, sent after the commit. It says what happened and where to read it;
    never the decision's content. The officer's page may be in another language than the
    requester's: the mail is in the requester's (access.services.language_of)."""
    with translation.override(language_of(item.requested_by)):
        subject, message = _requester_mail(item, link)
    transaction.on_commit(
        functools.partial(_send, item.public_id, item.requester_email, subject, message)
    )


def _requester_mail(item: DecisionRequest, link: str) -> tuple[str, str]:
    decision = item.decision
    if item.state == State.REFUSED:
        outcome = _("IVO har avslagit begäran. Skälet och hur ni överklagar står i tjänsten.")
    elif item.state == State.PARTLY_RELEASED:
        outcome = _(
            "IVO lämnar ut beslutet med vissa uppgifter maskerade. Ni kan hämta det i tjänsten; "
            "där står också skälet och hur ni överklagar."
        )
    else:
        outcome = _("IVO lämnar ut beslutet. Ni kan hämta det i tjänsten.")
    subject = _("Besked om er begäran: beslut %(dnr)s") % {"dnr": decision.diarienummer}
    message = _(
        "Hej!\n\nEr begäran om att få ut beslut %(dnr)s om %(facility)s är prövad.\n\n"
        "%(outcome)s\n\n%(link)s\n\nInspektionen för vård och omsorg"
    ) % {
        "dnr": decision.diarienummer,
        "facility": decision.facility.name,
        "outcome": outcome,
        "link": link,
    }
    return subject, message


def _send(public_id, email: str, subject: str, message: str) -> None:
    try:
        send_mail(subject=subject, message=message, from_email=None, recipient_list=[email])
    except (OSError, smtplib.SMTPException):
        # The decision stands and the service shows it; the mail is not worth a failed page.
        logger.exception("Mail about request %s could not be sent", public_id)
