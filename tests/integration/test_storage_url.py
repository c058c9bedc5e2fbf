"""VOXREGEN_STORAGE_URL: one setting picks the store, and a malformed value fails clearly."""

import uuid
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import pytest
from minio import Minio

from tests.integration.moto_server import ACCESS_KEY, SECRET_KEY, moto_s3_endpoint
from voxregen_adapters.local_object_store import LocalObjectStore
from voxregen_adapters.minio_object_store import MinioObjectStore
from voxregen_adapters.storage_url import object_store_from_url
from voxregen_core import keys
from voxregen_core.errors import ConfigError, StorageUnavailableError

PUBLIC_URL = "http://127.0.0.1:8000"
SIGNING_KEY = b"s" * 32
KEY = keys.job_input_key(uuid.UUID(int=1), uuid.UUID(int=2))


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    with moto_s3_endpoint() as endpoint:
        yield endpoint


def _store(url: str):
    return object_store_from_url(url, public_url=PUBLIC_URL, signing_key=SIGNING_KEY)


def test_a_file_url_gives_a_local_store_under_that_folder(tmp_path):
    store = _store(f"file://{tmp_path}/objects")
    assert isinstance(store, LocalObjectStore)
    store.put(KEY, b"RIFF")
    assert (tmp_path / "objects" / KEY).read_bytes() == b"RIFF"
    assert store.presigned_get_url(KEY, expires_s=60).startswith(f"{PUBLIC_URL}/storage/{KEY}?")


def test_an_s3_url_gives_a_minio_store_on_that_endpoint_and_bucket(s3_endpoint):
    bucket = f"voxregen-{uuid.uuid4().hex}"
    store = _store(f"s3://{ACCESS_KEY}:{SECRET_KEY}@{s3_endpoint}/{bucket}?secure=false")
    assert isinstance(store, MinioObjectStore)
    store.put(KEY, b"RIFF")
    client = Minio(s3_endpoint, access_key=ACCESS_KEY, secret_key=SECRET_KEY, secure=False)
    response = client.get_object(bucket, KEY)
    try:
        assert response.read() == b"RIFF"
    finally:
        response.close()
        response.release_conn()


def test_s3_keys_are_percent_decoded_and_the_region_is_used_for_signing(s3_endpoint):
    bucket = f"voxregen-{uuid.uuid4().hex}"
    store = _store(
        f"s3://team%40ops:se%2Fcret@{s3_endpoint}/{bucket}?secure=false&region=eu-west-1"
    )
    url = store.presigned_get_url(KEY, expires_s=60)
    parts = urlsplit(url)
    assert parts.scheme == "http"
    credential = parse_qs(parts.query)["X-Amz-Credential"][0]
    assert credential.startswith("team@ops/") and "/eu-west-1/s3/" in credential


def test_s3_is_https_unless_told_otherwise(s3_endpoint):
    # moto speaks plain HTTP, so a store that defaults to TLS cannot talk to it.
    store = _store(f"s3://{ACCESS_KEY}:{SECRET_KEY}@{s3_endpoint}/voxregen-tls")
    with pytest.raises(StorageUnavailableError, match="cannot be reached"):
        store.exists(KEY)


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("", "scheme must be file:// or s3://"),
        ("/data/objects", "scheme must be file:// or s3://"),
        ("http://minio:9000/bucket", "scheme must be file:// or s3://"),
        ("file://relative/dir", "expected file:///absolute/dir"),
        ("file:relative", "expected file:///absolute/dir"),
        ("file:///data?x=1", "expected file:///absolute/dir"),
        ("s3://minio:9000/bucket", "access key, secret key and host are required"),
        ("s3://ak@minio:9000/bucket", "access key, secret key and host are required"),
        ("s3://ak:sk@minio:port/bucket", "bad port"),
        ("s3://ak:sk@minio:99999/bucket", "bad port"),
        ("s3://ak:sk@minio:9000", "the path must be one bucket name"),
        ("s3://ak:sk@minio:9000/bucket/sub", "the path must be one bucket name"),
        ("s3://ak:sk@minio:9000/Bad_Bucket", "invalid bucket name"),
        ("s3://ak:sk@minio:9000/bucket?secure=no", "secure must be true or false"),
        ("s3://ak:sk@minio:9000/bucket?tls=false", "unknown option"),
        ("s3://ak:sk@[::1/bucket", "Invalid IPv6 URL"),
    ],
)
def test_a_malformed_url_names_the_setting_and_the_reason(url, reason):
    with pytest.raises(ConfigError, match="VOXREGEN_STORAGE_URL is malformed") as raised:
        _store(url)
    assert reason in str(raised.value)


def test_the_secret_key_never_appears_in_the_error():
    for url in ("s3://ak:topsecret@minio:9000/bucket/sub", "s3://ak:topsecret@minio:9000/B_"):
        with pytest.raises(ConfigError, match="VOXREGEN_STORAGE_URL is malformed") as raised:
            _store(url)
        assert "topsecret" not in str(raised.value)
