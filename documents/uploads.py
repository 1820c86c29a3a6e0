"""Uploaded decision documents are checked before anything is stored: a PDF by its content (not
its name), not empty, not password-protected, not larger than DOCUMENT_MAX_BYTES.

The size is also checked while the file arrives (``SizeLimitUploadHandler``, first among
FILE_UPLOAD_HANDLERS): a file over the limit is skipped as it streams in, so it never fills
memory or the temporary folder, whoever sends it.
"""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.core.files.uploadhandler import FileUploadHandler, SkipFile
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _

SKIPPED_KEY = "hvb.upload_skipped_as_too_large"


class SizeLimitUploadHandler(FileUploadHandler):
    """Skips a file as soon as more than DOCUMENT_MAX_BYTES of it has arrived, and notes its
    name in request.META so the page can say why."""

    def new_file(self, field_name, file_name, content_type, content_length, *args, **kwargs):
        super().new_file(field_name, file_name, content_type, content_length, *args, **kwargs)
        if content_length is not None and content_length > settings.DOCUMENT_MAX_BYTES:
            self._skip()

    def receive_data_chunk(self, raw_data, start):
        if start + len(raw_data) > settings.DOCUMENT_MAX_BYTES:
            self._skip()
        return raw_data

    def file_complete(self, file_size):
        return None  # the next handlers build the file

    def _skip(self):
        self.request.META[SKIPPED_KEY] = self.file_name
        raise SkipFile


def _too_large(name: str, size: int | None) -> ValidationError:
    limit = filesizeformat(settings.DOCUMENT_MAX_BYTES)
    if size is None:
        message = _("Filen %(name)s är större än %(limit)s, som är gränsen.") % {
            "name": name,
            "limit": limit,
        }
    else:
        message = _("Filen %(name)s är %(size)s; den får vara högst %(limit)s.") % {
            "name": name,
            "size": filesizeformat(size),
            "limit": limit,
        }
    return ValidationError(message, code="too_large")


def skipped_as_too_large(request) -> ValidationError | None:
    """The error for a file the upload handler skipped, if it skipped one."""
    name = request.META.get(SKIPPED_KEY)
    return _too_large(name, None) if name else None


def checked_pdf(upload: UploadedFile | None) -> UploadedFile:
    """The upload, if it is a readable PDF of an allowed size; otherwise a Swedish error."""
    if not upload:
        raise ValidationError(_("Välj en PDF-fil."), code="required")
    if upload.size == 0:
        raise ValidationError(_("Filen %(name)s är tom.") % {"name": upload.name}, code="empty")
    if upload.size > settings.DOCUMENT_MAX_BYTES:
        raise _too_large(upload.name, upload.size)
    not_pdf = ValidationError(
        _("Filen %(name)s är inte en PDF-fil (innehållet avgör, inte filnamnet).")
        % {"name": upload.name},
        code="not_pdf",
    )
    upload.seek(0)
    if not upload.read(1024).lstrip().startswith(b"%PDF-"):
        raise not_pdf
    upload.seek(0)
    from pypdf import PdfReader  # here, not with the module: only uploads need it (memory)

    try:
        reader = PdfReader(upload)
        if reader.is_encrypted:
            raise ValidationError(
                _("Filen %(name)s är lösenordsskyddad; ladda upp den utan lösenord.")
                % {"name": upload.name},
                code="encrypted",
            )
        pages = len(reader.pages)
    except ValidationError:
        raise
    except Exception:  # whatever the parser trips on, the file is not a PDF we can read
        raise not_pdf from None
    if pages == 0:
        raise not_pdf
    upload.seek(0)
    return upload
