"""Uploaded decision documents are checked before anything is stored: a PDF by its content (not
its name), not empty, not larger than DOCUMENT_MAX_BYTES."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _
from pypdf import PdfReader


def checked_pdf(upload: UploadedFile | None) -> UploadedFile:
    """The upload, if it is a readable PDF of an allowed size; otherwise a Swedish error."""
    if upload is None:
        raise ValidationError(_("Välj en PDF-fil."), code="required")
    if upload.size == 0:
        raise ValidationError(_("Filen %(name)s är tom.") % {"name": upload.name}, code="empty")
    if upload.size > settings.DOCUMENT_MAX_BYTES:
        raise ValidationError(
            _("Filen %(name)s är %(size)s; den får vara högst %(limit)s.")
            % {
                "name": upload.name,
                "size": filesizeformat(upload.size),
                "limit": filesizeformat(settings.DOCUMENT_MAX_BYTES),
            },
            code="too_large",
        )
    not_pdf = ValidationError(
        _("Filen %(name)s är inte en PDF-fil (innehållet avgör, inte filnamnet).")
        % {"name": upload.name},
        code="not_pdf",
    )
    upload.seek(0)
    if not upload.read(1024).lstrip().startswith(b"%PDF-"):
        raise not_pdf
    upload.seek(0)
    try:
        pages = len(PdfReader(upload).pages)
    except Exception:  # whatever the parser trips on, the file is not a PDF we can read
        raise not_pdf from None
    if pages == 0:
        raise not_pdf
    upload.seek(0)
    return upload
