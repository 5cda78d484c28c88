"""PUT /issuer/logo: allow-listed decoders, size limits, bombs refused, clean PNG out."""

from __future__ import annotations

import io
import warnings

import pytest
from PIL import Image, PngImagePlugin

from issuers.logos import LOGO_MAX_SIDE, LogoError, logo_normalise
from issuers.models import Issuer
from tests.api_support import problem

pytestmark = pytest.mark.django_db


def image_bytes(fmt: str, size=(600, 300), **save) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(out, format=fmt, **save)
    return out.getvalue()


@pytest.mark.parametrize(("fmt", "mime"), [("PNG", "png"), ("JPEG", "jpeg"), ("WEBP", "webp")])
def test_it_accepts_png_jpeg_and_webp_and_stores_a_resized_png(api, fmt, mime):
    response = api.put("/issuer/logo", image_bytes(fmt), f"image/{mime}")

    assert response.status_code == 200, response.content
    assert response.json()["logo_version"] == 1
    issuer = Issuer.objects.get(pk=api.issuer.pk)
    with Image.open(io.BytesIO(bytes(issuer.logo_png))) as stored:
        assert stored.format == "PNG"
        assert max(stored.size) == LOGO_MAX_SIDE
        assert stored.size == (LOGO_MAX_SIDE, LOGO_MAX_SIDE // 2)


def test_it_strips_metadata(api):
    info = PngImagePlugin.PngInfo()
    info.add_text("Author", "secret-person@example.com")
    api.put("/issuer/logo", image_bytes("PNG", info=info), "image/png")

    stored = bytes(Issuer.objects.get(pk=api.issuer.pk).logo_png)
    assert b"secret-person" not in stored
    with Image.open(io.BytesIO(stored)) as image:
        assert not image.text


def test_it_bumps_the_logo_version_each_time(api):
    api.put("/issuer/logo", image_bytes("PNG"), "image/png")
    response = api.put("/issuer/logo", image_bytes("PNG"), "image/png")

    assert response.json()["logo_version"] == 2


def test_it_refuses_svg_clearly(api):
    svg = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
    response = api.put("/issuer/logo", svg, "image/svg+xml")

    assert response.status_code == 415
    assert "SVG logos are not accepted" in problem(response)["detail"]
    assert Issuer.objects.get(pk=api.issuer.pk).logo_version == 0


def test_it_refuses_formats_outside_the_allow_list(api):
    response = api.put("/issuer/logo", image_bytes("BMP"), "image/bmp")

    assert response.status_code == 415
    assert "PNG, JPEG or WebP" in problem(response)["detail"]


def test_it_refuses_a_file_over_2_mb(api):
    response = api.put("/issuer/logo", b"\x89PNG" + b"0" * (2 * 1024 * 1024), "image/png")

    assert response.status_code == 413
    assert "2 MB" in problem(response)["detail"]


def test_it_refuses_more_than_4096_pixels_a_side(api):
    response = api.put("/issuer/logo", image_bytes("PNG", size=(5000, 10)), "image/png")

    assert response.status_code == 400
    assert "4096x4096" in problem(response)["errors"][0]["message"]


def test_it_refuses_a_truncated_image(api):
    response = api.put("/issuer/logo", image_bytes("PNG")[:80], "image/png")

    assert response.status_code == 400
    assert problem(response)["errors"][0]["field"] == "file"


def test_the_decompression_bomb_warning_is_an_error(monkeypatch):
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)  # warning above 1000, error above 2000
    data = image_bytes("PNG", size=(40, 40))  # 1600 pixels: a warning only

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(LogoError, match="decompression bomb"):
            logo_normalise(data)


def test_a_multipart_upload_works_too(api):
    upload = io.BytesIO(image_bytes("PNG"))
    upload.name = "logo.png"
    response = api.client.put("/api/v1/issuer/logo", {"file": upload}, format="multipart")

    assert response.status_code == 200, response.content
