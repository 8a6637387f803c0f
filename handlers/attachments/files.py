"""The files directory and what it takes: the types allowed (by category: image, pdf, text,
office, zip — or an extension), the size limit, safe names, and writing a file's bytes under
``<kind>/<id>/`` named by its checksum."""

import mimetypes
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from handlers.errors import UserError

MB = 1024 * 1024
# category → (MIME types or prefixes ending in "/", extensions)
CATEGORIES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "image": (("image/",), (".jpg", ".jpeg", ".png", ".gif", ".webp", ".heic", ".heif", ".bmp",
                            ".tif", ".tiff")),
    "pdf": (("application/pdf",), (".pdf",)),
    "text": (("text/plain", "text/csv", "text/markdown", "text/x-log", "application/json"),
             (".txt", ".log", ".csv", ".md", ".json", ".xml", ".yaml", ".yml", ".conf", ".cfg",
              ".ini", ".out")),
    "office": (("application/msword", "application/vnd.ms-excel",
                "application/vnd.ms-powerpoint", "application/vnd.openxmlformats-officedocument.",
                "application/vnd.oasis.opendocument."),
               (".doc", ".docx", ".xls", ".xlsx", ".ppt", ".pptx", ".odt", ".ods", ".odp",
                ".rtf")),
    "zip": (("application/zip", "application/x-zip-compressed"), (".zip",)),
}  # fmt: skip
DEFAULT_TYPES = tuple(CATEGORIES)
_UNSAFE = re.compile(r"[\x00-\x1f\x7f/\\:*?\"<>|]+")


def extension(name: str) -> str:
    return PurePosixPath(name.replace("\\", "/")).suffix.lower()


def category(name: str, mime: str | None) -> str | None:
    """What a file is: its extension decides when it has one we know (that is what opens it),
    else its MIME type; None: neither is of a category."""
    ext = extension(name)
    for kind, (_, exts) in CATEGORIES.items():
        if ext in exts:
            return kind
    if ext and ext not in (".bin", ".dat"):
        return ext  # an extension of no category: allowed only if named in the setting
    mime = (mime or "").split(";")[0].strip().lower()
    for kind, (mimes, _) in CATEGORIES.items():
        if any(mime == m or (m.endswith((".", "/")) and mime.startswith(m)) for m in mimes):
            return kind
    return None


def safe_name(name: str, limit: int = 120) -> str:
    """A file name that is a name and nothing else: no directory, no control characters."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    base = _UNSAFE.sub("_", base).strip(" .") or "file"
    if len(base) > limit:
        stem, ext = os.path.splitext(base)
        base = stem[: limit - len(ext[:16])] + ext[:16]
    return base


def display_size(size: int) -> str:
    if size < 1024:
        return f"{size} B"
    if size < MB:
        return f"{size / 1024:.1f} KB"
    return f"{size / MB:.1f} MB"


@dataclass(frozen=True)
class FileRules:
    """Where attachments are kept and what is taken: ``max_bytes`` each, of the ``types``
    (categories of CATEGORIES, or extensions such as ``.dwg``)."""

    directory: Path
    max_bytes: int = 25 * MB
    types: tuple[str, ...] = DEFAULT_TYPES

    def check_size(self, size: int | None) -> None:
        if size is not None and size > self.max_bytes:
            raise UserError(
                "attach.too_large", size=display_size(size), limit=display_size(self.max_bytes)
            )

    def check_type(self, name: str, mime: str | None) -> str:
        """The file's category, or a refusal naming what is allowed."""
        kind = category(name, mime)
        if kind is None or kind not in self.types:
            shown = extension(name) or (mime or "?")
            raise UserError("attach.type_refused", kind=shown, allowed=", ".join(self.types))
        return kind

    def store(self, subject: tuple[str, int], sha256: str, name: str, data: bytes) -> str:
        """Write ``data`` under ``<kind>/<id>/<sha256 prefix>-<name>`` (atomically: a crash
        leaves no half file) and return that path, relative to the directory."""
        relative = PurePosixPath(subject[0], str(subject[1]), f"{sha256[:16]}-{name}")
        target = self.directory.joinpath(*relative.parts)
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(dir=target.parent, prefix=".incoming-")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
            os.replace(temporary, target)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        return relative.as_posix()

    def path_of(self, relative: str) -> Path:
        return self.directory.joinpath(*PurePosixPath(relative).parts)


def guessed_name(file_id: str, mime: str | None) -> str:
    """A name for a file sent without one (a WeCom photo): its id and the type's extension."""
    ext = mimetypes.guess_extension((mime or "").split(";")[0].strip()) or ""
    return f"{safe_name(file_id)[:40]}{'.jpg' if ext == '.jpe' else ext}"
