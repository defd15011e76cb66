"""Reading a multipart upload as it streams in, without Starlette's form parser.

``request.form()`` would spool every file part over 1 MiB to an unencrypted temporary file.
Here python-multipart's streaming parser hands each piece of a file part straight to a
:class:`~intake.attachments.staging.StagedFile`, which encrypts it before it reaches disk.

Every limit is checked as the bytes arrive, so a breach is refused (413, naming the limit)
before the rest is read, and nothing has been stored: staged files are unnamed temporary files
that vanish when closed. These checks are the only body limit on upload routes (the app's
:class:`~intake.web.middleware.BodyLimitMiddleware` leaves multipart requests to those routes
alone).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import Request

from intake.attachments import budget
from intake.attachments.staging import CaseKey, StagedFile, staging_directory
from intake.config import Settings
from intake.errors import InvalidInput, QuietlineError
from intake.i18n import N_, Size, format_size
from intake.numbers import is_digits
from intake.runtime import runtime_of
from intake.web.api.parsing import MalformedRequest

FILE_FIELD = "files"
MAX_FIELDS = 60  # a questionnaire's answers, choices and the routing fields
PART_OVERHEAD = 8192  # boundary and part headers, per part, in the overall envelope


class UploadTooLarge(QuietlineError):
    status = 413


def megabytes(count: int) -> str:
    """A size limit as shown on a page, in the current language (``25 MB``, ``25 Mo``)."""
    return format_size(count)


@dataclass(frozen=True)
class UploadLimits:
    max_files: int
    max_file_bytes: int
    max_total_bytes: int
    max_text_bytes: int

    @classmethod
    def from_settings(cls, settings: Settings) -> UploadLimits:
        return cls(
            max_files=settings.attachment_max_files,
            max_file_bytes=settings.attachment_max_file_bytes,
            max_total_bytes=settings.attachment_max_total_bytes,
            max_text_bytes=settings.max_request_bytes,
        )

    @property
    def envelope(self) -> int:
        """The most a whole request may hold: files, text fields, and part headers."""
        return (
            self.max_total_bytes
            + self.max_text_bytes
            + (self.max_files + MAX_FIELDS + 1) * PART_OVERHEAD
        )

    def too_many_files(self) -> UploadTooLarge:
        return UploadTooLarge(
            N_(
                "Too many files: at most %(limit)s files can be sent with one report or "
                "message. Nothing was saved; please choose fewer files."
            ),
            limit=self.max_files,
        )

    def file_too_large(self, name: str) -> UploadTooLarge:
        return UploadTooLarge(
            N_(
                "The file “%(name)s” is too large: the limit is %(limit)s per file. Nothing "
                "was saved; please send a smaller file or split it."
            ),
            name=name,
            limit=Size(self.max_file_bytes),
        )

    def total_too_large(self) -> UploadTooLarge:
        return UploadTooLarge(
            N_(
                "The files are too large together: the limit is %(limit)s for all the files "
                "of one report or message. Nothing was saved; please send fewer or smaller "
                "files."
            ),
            limit=Size(self.max_total_bytes),
        )

    def text_too_large(self) -> UploadTooLarge:
        return UploadTooLarge(
            N_("The text fields are too large: the limit is %(limit)s. Nothing was saved."),
            limit=Size(self.max_text_bytes),
        )


@dataclass
class Upload:
    """The text fields and the staged files of one request. Close it when done."""

    fields: dict[str, str] = field(default_factory=dict)
    # Every value of each field, in order (checkbox groups send one name several times).
    repeated: dict[str, list[str]] = field(default_factory=dict)
    files: list[StagedFile] = field(default_factory=list)

    def close(self) -> None:
        for staged in self.files:
            staged.close()
        self.files.clear()

    def text(self, name: str) -> str:
        return self.fields.get(name, "")

    def texts(self, name: str) -> list[str]:
        return list(self.repeated.get(name, ()))


def is_multipart(request: Request) -> bool:
    content_type, _ = parse_options_header(request.headers.get("content-type", ""))
    return content_type == b"multipart/form-data"


class _Reader:
    """The parser's callbacks: route each part's bytes to a text buffer or a staged file."""

    def __init__(
        self,
        directory: Path,
        limits: UploadLimits,
        upload: Upload,
        case_key: CaseKey | None,
        room: int | None = None,
    ) -> None:
        self.directory = directory
        self.room = room
        self.case_key = case_key
        self.limits = limits
        self.upload = upload
        self.header_name = bytearray()
        self.header_value = bytearray()
        self.headers: dict[bytes, bytes] = {}
        self.part_name = ""
        self.filename: str | None = None
        self.declared_type = ""
        self.text: bytearray | None = None
        self.staged: StagedFile | None = None
        self.text_bytes = 0
        self.file_bytes = 0
        self.fields = 0
        self.ended = False

    def on_part_begin(self) -> None:
        self.headers = {}
        self.text = None
        self.staged = None

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self.header_name += data[start:end]

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self.header_value += data[start:end]

    def on_header_end(self) -> None:
        self.headers[bytes(self.header_name).lower()] = bytes(self.header_value)
        self.header_name.clear()
        self.header_value.clear()

    def on_headers_finished(self) -> None:
        disposition, params = parse_options_header(self.headers.get(b"content-disposition", b""))
        if disposition != b"form-data" or b"name" not in params:
            raise MalformedRequest(N_("A part of the upload has no field name."))
        self.part_name = params[b"name"].decode("utf-8", "replace")
        filename = params.get(b"filename")
        self.filename = filename.decode("utf-8", "replace") if filename is not None else None
        self.declared_type = self.headers.get(b"content-type", b"").decode("latin-1")[:100]
        if self.part_name == FILE_FIELD:
            if self.filename is None:
                # Not a file: refused if it holds anything (on_part_end); an empty one is an
                # empty file input from a client that leaves the file name out.
                self.text = bytearray()
            elif self.filename:
                self._start_file()
            return
        self.fields += 1
        if self.fields > MAX_FIELDS:
            raise MalformedRequest(N_("Too many fields: at most %(limit)s."), limit=MAX_FIELDS)
        self.text = bytearray()

    def _start_file(self) -> None:
        if len(self.upload.files) >= self.limits.max_files:
            raise self.limits.too_many_files()
        self.staged = StagedFile(
            self.directory,
            filename=self.filename or "",
            declared_type=self.declared_type,
            case_key=self.case_key,
        )
        self.upload.files.append(self.staged)

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        count = end - start
        if not count:
            return
        if self.text is not None:
            self.text_bytes += count
            if self.text_bytes > self.limits.max_text_bytes:
                raise self.limits.text_too_large()
            self.text += data[start:end]
            return
        if self.staged is None:  # a file part without a file name that has content
            self._start_file()
        assert self.staged is not None
        if self.staged.size + count > self.limits.max_file_bytes:
            raise self.limits.file_too_large(self.staged.filename)
        self.file_bytes += count
        if self.file_bytes > self.limits.max_total_bytes:
            raise self.limits.total_too_large()
        if self.room is not None and self.file_bytes > self.room:
            raise budget.storage_full()
        self.staged.write(data[start:end])

    def on_part_end(self) -> None:
        if self.text is not None and self.part_name == FILE_FIELD:
            if self.text:
                raise MalformedRequest(N_("Each “files” part must be a file."))
            self.text = None
        elif self.text is not None:
            try:
                value = bytes(self.text).decode("utf-8")
            except UnicodeDecodeError:
                raise InvalidInput(
                    N_("Some of the text could not be read. Please type it again.")
                ) from None
            self.upload.fields.setdefault(self.part_name, value)
            self.upload.repeated.setdefault(self.part_name, []).append(value)
            self.text = None
        elif self.staged is not None:
            self.staged.finish()
            self.staged = None

    def on_end(self) -> None:
        self.ended = True


async def read_upload(
    request: Request, settings: Settings, *, case_key: CaseKey | None = None
) -> Upload:
    """Read a reporter's ``multipart/form-data`` request: text fields in memory, files encrypted
    (under ``case_key`` when the case they will belong to is known in advance: a new report).

    File bytes beyond the room the storage budget leaves (intake/attachments/budget.py) are
    refused with 507 as they arrive; text fields never are.
    """
    limits = UploadLimits.from_settings(settings)
    room = await budget.room(runtime_of(request))
    _, params = parse_options_header(request.headers.get("content-type", ""))
    boundary = params.get(b"boundary")
    if not boundary:
        raise MalformedRequest(N_("The upload has no multipart boundary."))
    declared = request.headers.get("content-length", "")
    if is_digits(declared) and int(declared) > limits.envelope:
        raise limits.total_too_large()
    upload = Upload()
    reader = _Reader(staging_directory(settings.data_dir), limits, upload, case_key, room)
    callbacks = {
        name: getattr(reader, name)
        for name in (
            "on_part_begin",
            "on_header_field",
            "on_header_value",
            "on_header_end",
            "on_headers_finished",
            "on_part_data",
            "on_part_end",
            "on_end",
        )
    }
    parser = MultipartParser(boundary, callbacks)  # type: ignore[arg-type]
    received = 0
    try:
        async for chunk in request.stream():
            received += len(chunk)
            if received > limits.envelope:
                raise limits.total_too_large()
            parser.write(chunk)
        parser.finalize()
        if not reader.ended:
            raise MalformedRequest(N_("The upload was cut short. Nothing was saved; please retry."))
    except QuietlineError:
        upload.close()
        raise
    except Exception as exc:
        upload.close()
        raise MalformedRequest(N_("The upload could not be read. Nothing was saved.")) from exc
    return upload
