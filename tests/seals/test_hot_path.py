"""The seal image hot path: no query when warm, honest headers. The WSGI side of it
(the trimmed middleware chain, the replay) is tested in tests/fastpath."""

from __future__ import annotations

import pytest
from django.core.cache import cache

from seals import public_views
from tests.seals.public_helpers import seal_in

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("suffix", [".svg", ".png"])
def test_a_warm_image_its_304_and_the_json_make_no_query(client, django_assert_num_queries, suffix):
    seal = seal_in("active")
    url = f"/s/{seal.public_id}{suffix}"
    etag = client.get(url)["ETag"]
    client.get(f"/verify/{seal.public_id}.json")
    with django_assert_num_queries(0):
        assert client.get(url).status_code == 200
        assert client.get(url, HTTP_IF_NONE_MATCH=etag).status_code == 304
        assert client.get(f"/verify/{seal.public_id}.json").status_code == 200


@pytest.mark.parametrize("suffix", [".svg", ".png"])
def test_images_state_their_exact_content_length(client, suffix):
    seal = seal_in("active")
    response = client.get(f"/s/{seal.public_id}{suffix}")
    assert response["Content-Length"] == str(len(response.content))
    assert int(response["Content-Length"]) > 100


def test_the_etag_is_the_same_on_a_node_with_empty_caches(client):
    # Another web node has its own in-process LRU and may see the shared cache empty (or
    # a new snapshot generation token): the ETag must depend on the seal only.
    seal = seal_in("active")
    url = f"/s/{seal.public_id}.png"
    first = client.get(url)
    cache.clear()
    public_views._bytes.items.clear()
    second = client.get(url)
    assert first["ETag"] == second["ETag"]
    assert first.content == second.content
