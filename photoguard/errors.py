"""Named errors. Each carries a one-line, PHI-free reason that the CLI prints as is."""

from __future__ import annotations


class PhotoguardError(Exception):
    """Base class; ``str(err)`` is a one-line reason safe to print and log."""

    exit_code = 1


class UnreadableImage(PhotoguardError):
    """The file could not be decoded as an image (corrupt, non-image, empty)."""


class EmptyFile(UnreadableImage):
    """The file has zero bytes."""


class TruncatedImage(UnreadableImage):
    """The file ends before its image data does."""


class UnsupportedFormat(UnreadableImage):
    """The file is an image in a format photoguard does not read."""


class DecompressionBomb(UnreadableImage):
    """The image declares more pixels than the configured limit."""


class DetectorError(PhotoguardError):
    """A detector crashed or returned something unusable."""


class EnvironmentProblem(PhotoguardError):
    """A required program or model is missing (Tesseract, model weights)."""

    exit_code = 3


class WorkerDied(PhotoguardError):
    """A worker process died (killed, out of memory, a crash in a native library)."""

    exit_code = 3


class ConfigError(PhotoguardError):
    """The policy file or a setting is invalid."""

    exit_code = 2


class OutputError(PhotoguardError):
    """An output could not be written safely."""


class OutputBusy(OutputError):
    """Another ``redact`` run holds the output folder."""

    exit_code = 3


class Interrupted(PhotoguardError):
    """The run was interrupted (Ctrl-C); what was written is complete and audited."""

    exit_code = 130

    def __init__(self, written: int, total: int) -> None:
        super().__init__(f"interrupted: {written} of {total} written; re-run to continue")
        self.written = written
        self.total = total
