"""Issuer logos: untrusted image bytes in, a small clean PNG out.

Only PNG, JPEG and WebP decoders are reachable (``Image.open(..., formats=[...])``): Pillow's
rarely used decoders have had most of its CVEs. The decompression-bomb warning is an error, so a
small file that inflates to a huge bitmap is refused before it is decoded. The result is
re-encoded from pixels (no EXIF, ICC, text chunks or anything else of the upload survives) and
fitted into LOGO_MAX_SIDE for the seal renderer.
"""

from __future__ import annotations

import io
import warnings

from PIL import Image, ImageOps, UnidentifiedImageError

from config.errors import DomainError

LOGO_MAX_BYTES = 2 * 1024 * 1024
LOGO_MAX_PIXELS_SIDE = 4096
LOGO_MAX_SIDE = 256  # the largest seal draws the logo at 96 px; 256 leaves room for HiDPI
ALLOWED_FORMATS = ("PNG", "JPEG", "WEBP")
ALLOWED_LIST = "PNG, JPEG or WebP"


class LogoError(DomainError):
    """A refused upload: a damaged, empty or oversized image (API: 400 on ``file``)."""

    field: str | None = "file"


class LogoTooLargeError(LogoError):
    status_code = 413
    code = "payload_too_large"
    field = None


class LogoUnsupportedError(LogoError):
    """Not a PNG, JPEG or WebP image."""

    status_code = 415
    code = "unsupported_media_type"
    field = None


def _sniff_unsupported(data: bytes) -> str | None:
    head = data[:512].lstrip().lower()
    if head.startswith(b"<?xml") or b"<svg" in head:
        return "SVG logos are not accepted (SVG can carry scripts and external references)"
    if head.startswith(b"gif8"):
        return "GIF logos are not accepted"
    return None


def logo_normalise(data: bytes) -> bytes:
    """The upload as a metadata-free PNG at most LOGO_MAX_SIDE px on its longer side."""
    if len(data) > LOGO_MAX_BYTES:
        raise LogoTooLargeError(
            f"The logo is {len(data)} bytes; the limit is {LOGO_MAX_BYTES} bytes (2 MB)."
        )
    if not data:
        raise LogoError(f"The logo is empty; upload a {ALLOWED_LIST} image.")
    refused = _sniff_unsupported(data)
    if refused:
        raise LogoUnsupportedError(f"{refused}; upload a {ALLOWED_LIST} image.")
    # Bombs past Pillow's own limit raise DecompressionBombError; between its warning and error
    # thresholds only a warning is issued, which we turn into an error here.
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            with Image.open(io.BytesIO(data), formats=list(ALLOWED_FORMATS)) as upload:
                width, height = upload.size
                if width > LOGO_MAX_PIXELS_SIDE or height > LOGO_MAX_PIXELS_SIDE:
                    raise LogoError(
                        f"The logo is {width}x{height} px; the limit is "
                        f"{LOGO_MAX_PIXELS_SIDE}x{LOGO_MAX_PIXELS_SIDE} px."
                    )
                upload.load()
                image = ImageOps.exif_transpose(upload).convert("RGBA")
        except (Image.DecompressionBombWarning, Image.DecompressionBombError) as exc:
            raise LogoError(
                "The logo decompresses to too many pixels (a decompression bomb?)."
            ) from exc
        except UnidentifiedImageError as exc:
            raise LogoUnsupportedError(
                f"The file is not a {ALLOWED_LIST} image (other formats, SVG included, are "
                "not accepted)."
            ) from exc
        except (OSError, SyntaxError, ValueError) as exc:
            raise LogoError(f"The image is damaged or truncated: {exc}.") from exc
    image.thumbnail((LOGO_MAX_SIDE, LOGO_MAX_SIDE), Image.Resampling.LANCZOS)
    # A fresh image from the pixels alone: nothing of the upload's metadata is carried over.
    clean = Image.new("RGBA", image.size)
    clean.paste(image)
    out = io.BytesIO()
    clean.save(out, format="PNG", optimize=True)
    return out.getvalue()
