"""From an upload as it arrived to a cleaned copy encrypted under the case data key.

Runs in a worker thread (parsing and encryption are CPU work). A file that cannot be cleaned is
never lost: it is kept exactly as uploaded, and the reason is recorded for the reporter and
staff to see.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from intake import i18n
from intake.attachments.cleaning.errors import N_, Unreadable
from intake.attachments.cleaning.formats import FORMATS, Format, claimed_format, detect
from intake.attachments.staging import SealedFile, StagedFile
from intake.storage.models import new_id

MAX_NAME_CHARS = 200


@dataclass(frozen=True)
class Cleaning:
    """What happened to one file's metadata, as the reporter and staff are told.

    Every text here is a catalog message id (English, marked where it is written), stored as
    such with the attachment, so each reader sees it in their own language: ``problem`` takes
    ``params`` (``format`` and ``reason`` are themselves message ids, ``limit`` a size).
    """

    format: str
    cleaned: bool
    removed: tuple[str, ...] = ()
    problem: str = ""
    advice: str = ""
    params: dict[str, str] = field(default_factory=dict)

    def as_dict(self) -> dict[str, object]:
        return {
            "format": self.format,
            "cleaned": self.cleaned,
            "removed": list(self.removed),
            "problem": self.problem,
            "advice": self.advice,
            "params": dict(self.params),
        }

    @classmethod
    def from_dict(cls, data: dict[str, object]) -> Cleaning:
        removed = data.get("removed", [])
        params = data.get("params", {})
        return cls(
            format=str(data.get("format", "")),
            cleaned=bool(data.get("cleaned", False)),
            removed=tuple(str(item) for item in removed) if isinstance(removed, list) else (),
            problem=str(data.get("problem", "")),
            advice=str(data.get("advice", "")),
            params={str(k): str(v) for k, v in params.items()} if isinstance(params, dict) else {},
        )

    def format_text(self) -> str:
        """What the file is, in the language of the current request."""
        return i18n.gettext(self.format) if self.format else ""

    def removed_text(self) -> list[str]:
        return [i18n.gettext(item) for item in self.removed]

    def problem_text(self) -> str:
        if not self.problem:
            return ""
        params: dict[str, object] = dict(self.params)
        for name in ("format", "reason"):
            if name in params:
                params[name] = i18n.Phrase(str(params[name]))
        if "limit" in params:
            params["limit"] = i18n.Size(int(str(params["limit"])))
        return i18n.gettext(self.problem, params)

    def advice_text(self) -> str:
        return i18n.gettext(self.advice) if self.advice else ""


@dataclass
class PreparedAttachment:
    id: str
    name: str
    content_type: str
    sealed: SealedFile
    cleaning: Cleaning
    details: dict[str, object] = field(default_factory=dict)

    @property
    def size(self) -> int:
        return self.sealed.size

    def close(self) -> None:
        self.sealed.close()


def safe_name(filename: str) -> str:
    """The file's own name, without any folder, control characters or excess length."""
    name = unicodedata.normalize("NFC", filename).replace("\\", "/").rpartition("/")[2]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C").strip(" .")
    return name[:MAX_NAME_CHARS] or "attachment"


def _as_uploaded(
    staged: StagedFile, new_output: Callable[[], SealedFile], *, presealed: bool
) -> SealedFile:
    """The file exactly as uploaded, encrypted for the case: as staged when it already is."""
    if presealed:
        return staged.as_sealed()
    sealed = new_output()
    for chunk in staged.chunks():
        sealed.write(chunk)
    return sealed


def _not_cleaned(fmt: Format, problem: str, advice: str = "", **params: str) -> Cleaning:
    return Cleaning(
        format=fmt.label,
        cleaned=False,
        problem=problem,
        advice=advice or fmt.advice or FORMATS["other"].advice,
        params=params,
    )


def prepare(
    staged: StagedFile,
    *,
    directory: Path,
    data_key: bytes,
    case_id: str,
    clean_max_bytes: int,
) -> PreparedAttachment:
    """Clean ``staged`` where its format allows, and encrypt the result for the case."""
    presealed = staged.is_sealed_for(data_key, case_id)
    attachment_id = staged.attachment_id if presealed else new_id()
    name = safe_name(staged.filename)
    fmt = detect(staged.head)
    claimed = claimed_format(name)

    def new_output() -> SealedFile:
        return SealedFile(directory, data_key, case_id=case_id, attachment_id=attachment_id)

    cleaner = fmt.cleaner_for(staged.size)
    if cleaner is None:
        if claimed is not None and claimed != fmt.key and fmt.key == "other":
            cleaning = _not_cleaned(
                fmt,
                N_(
                    "It does not look like a %(format)s, so it could not be cleaned. "
                    "It was kept exactly as sent."
                ),
                format=FORMATS[claimed].label,
            )
        elif fmt.key == "other":
            cleaning = _not_cleaned(
                fmt, N_("Quietline cannot remove hidden details from this kind of file.")
            )
        else:
            cleaning = _not_cleaned(
                fmt,
                N_("Quietline cannot yet remove hidden details from a %(format)s."),
                format=fmt.label,
            )
        sealed = _as_uploaded(staged, new_output, presealed=presealed)
    elif fmt.whole_file and staged.size > clean_max_bytes:
        cleaning = _not_cleaned(
            fmt,
            N_(
                "This %(format)s is too large to clean (over %(limit)s). "
                "It was kept exactly as sent."
            ),
            N_(
                "Remove the author and other properties yourself before sending, or send a "
                "smaller file (for example only the pages that matter)."
            ),
            format=fmt.label,
            limit=str(clean_max_bytes),
        )
        sealed = _as_uploaded(staged, new_output, presealed=presealed)
    else:
        sealed = new_output()
        try:
            with staged.reader() as reader:
                removed = cleaner(reader, sealed.write)
            cleaning = Cleaning(format=fmt.label, cleaned=True, removed=removed)
        except Exception as exc:  # noqa: BLE001 - hostile input to parsers: keep the file
            reason = str(exc) if isinstance(exc, Unreadable) else N_("it could not be read")
            sealed.close()
            sealed = _as_uploaded(staged, new_output, presealed=presealed)
            cleaning = _not_cleaned(
                fmt,
                N_("It could not be cleaned (%(reason)s). It was kept exactly as sent."),
                N_("It may still carry hidden details such as an author or a location."),
                reason=reason,
            )
    sealed.finish()
    return PreparedAttachment(
        id=attachment_id,
        name=name,
        content_type=fmt.content_type,
        sealed=sealed,
        cleaning=cleaning,
    )
