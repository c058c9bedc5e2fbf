"""MinioObjectStore against a real S3 server (moto's, over HTTP): presigned URLs used by a plain
HTTP client, lifecycle tags, bucket creation, an object opened as a file on disk and an
unreachable endpoint; and the lifecycle and CORS rules docs/storage.md gives, installed."""

import io
import json
import os
import re
import socket
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import boto3
import numpy as np
import pytest
from minio import Minio

from tests.integration.moto_server import ACCESS_KEY, SECRET_KEY
from voxregen_adapters.minio_object_store import CLASS_TAG, MinioObjectStore
from voxregen_core import keys
from voxregen_core.errors import StorageUnavailableError

USER = uuid.UUID("11111111-1111-4111-8111-111111111111")
JOB = uuid.UUID("22222222-2222-4222-8222-222222222222")


@pytest.fixture
def bucket() -> str:
    return f"voxregen-{uuid.uuid4().hex}"


@pytest.fixture
def store(s3_endpoint, bucket) -> MinioObjectStore:
    return MinioObjectStore(
        endpoint=s3_endpoint,
        access_key=ACCESS_KEY,
        secret_key=SECRET_KEY,
        bucket=bucket,
        secure=False,
    )


@pytest.fixture
def client(s3_endpoint) -> Minio:
    """A second, independent SDK client to look at what the store did."""
    return Minio(s3_endpoint, access_key=ACCESS_KEY, secret_key=SECRET_KEY, secure=False)


def _http(method: str, url: str, body: bytes | None = None) -> tuple[int, bytes]:
    # An explicit type: urllib would otherwise send a form type, whose body moto's WSGI layer
    # parses away. Real S3 stores the bytes either way.
    headers = {"Content-Type": "application/octet-stream"} if body is not None else {}
    request = urllib.request.Request(url, data=body, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        with error:
            return error.code, error.read()


def test_a_presigned_put_from_a_plain_http_client_is_stored_under_its_key(store):
    key = keys.job_input_key(USER, JOB)
    status, _ = _http("PUT", store.presigned_put_url(key, expires_s=600), b"RIFF uploaded")
    assert status == 200
    assert store.get(key) == b"RIFF uploaded"
    assert store.list(keys.job_prefix(USER, JOB)) == [key]


def test_a_presigned_get_reads_the_object_with_a_plain_http_client(store):
    key = keys.job_output_key(USER, JOB)
    store.put(key, b"RIFF rendered")
    assert _http("GET", store.presigned_get_url(key, expires_s=600)) == (200, b"RIFF rendered")


def test_presigned_urls_are_sigv4_query_grants_for_the_key_and_expiry(store, bucket):
    # moto checks neither presigned signatures nor expiry, so refusing a tampered or expired
    # URL is S3's (MinIO's) guarantee; here we check that what we ask it to enforce is right.
    key = keys.job_output_key(USER, JOB)
    for url in (
        store.presigned_put_url(key, expires_s=900),
        store.presigned_get_url(key, expires_s=900),
    ):
        parts = urlsplit(url)
        query = parse_qs(parts.query)
        assert parts.path == f"/{bucket}/{key}"
        assert query["X-Amz-Algorithm"] == ["AWS4-HMAC-SHA256"]
        assert query["X-Amz-Expires"] == ["900"]
        assert query["X-Amz-SignedHeaders"] == ["host"]
        assert query["X-Amz-Credential"][0].startswith(f"{ACCESS_KEY}/")
        assert len(query["X-Amz-Signature"][0]) == 64


@pytest.mark.parametrize(
    ("key", "tag"),
    [
        (keys.reference_key(USER, uuid.uuid4(), uuid.uuid4()), "reference"),
        (keys.job_input_key(USER, JOB), "input"),
        (keys.chunk_key(USER, JOB, 3), "chunk"),
        (keys.job_output_key(USER, JOB), "output"),
        (keys.feature_cache_key(USER, "ab" * 32, "v1"), "feature-cache"),
        (keys.job_upload_key(USER, JOB), "upload"),
        (keys.reference_upload_key(USER, uuid.uuid4(), uuid.uuid4()), "upload"),
    ],
)
def test_every_put_tags_the_object_with_its_lifecycle_class(store, client, bucket, key, tag):
    store.put(key, b"x")
    assert dict(client.get_object_tags(bucket, key)) == {CLASS_TAG: tag}


def test_an_upload_moved_to_its_key_is_tagged_with_the_keys_class(store, client, bucket):
    upload_key = keys.job_upload_key(USER, JOB)
    status, _ = _http("PUT", store.presigned_put_url(upload_key, expires_s=600), b"RIFF up")
    assert status == 200
    assert client.get_object_tags(bucket, upload_key) is None  # a client's PUT: untagged
    store.move(upload_key, keys.job_input_key(USER, JOB))
    assert dict(client.get_object_tags(bucket, keys.job_input_key(USER, JOB))) == {
        CLASS_TAG: "input"
    }
    assert store.list(keys.job_prefix(USER, JOB)) == [keys.job_input_key(USER, JOB)]


def test_the_bucket_is_created_on_first_use_and_ensure_bucket_is_idempotent(store, client, bucket):
    assert not client.bucket_exists(bucket)
    assert not store.exists(keys.job_input_key(USER, JOB))
    assert client.bucket_exists(bucket)
    store.ensure_bucket()
    assert client.bucket_exists(bucket)


def test_an_existing_bucket_is_used_as_it_is(store, client, bucket):
    client.make_bucket(bucket)
    client.put_object(bucket, keys.job_input_key(USER, JOB), io.BytesIO(b"before"), 6)
    assert store.get(keys.job_input_key(USER, JOB)) == b"before"


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_open_spools_the_object_into_an_unlinked_file_on_disk_not_into_memory(store):
    key = keys.job_input_key(USER, JOB)
    data = os.urandom(5 << 20)
    store.put(key, data)
    with store.open(key) as file:
        on_disk = os.fstat(file.fileno())
        assert on_disk.st_size == len(data)
        assert on_disk.st_nlink == 0  # no name: nothing is left behind, even by a killed worker
        assert file.read() == data


def test_an_unreachable_server_raises_storage_unavailable_quickly():
    store = MinioObjectStore(
        endpoint=f"127.0.0.1:{_closed_port()}",
        access_key=ACCESS_KEY,
        secret_key=SECRET_KEY,
        bucket="voxregen-nowhere",
        secure=False,
        timeout_s=1.0,
    )
    started_s = time.monotonic()
    with pytest.raises(StorageUnavailableError, match="cannot be reached") as raised:
        store.get(keys.job_input_key(USER, JOB))
    assert time.monotonic() - started_s < 3.0
    assert raised.value.code == "storage_unavailable"
    unreachable = pytest.raises(StorageUnavailableError, match="cannot be reached")
    with unreachable, store.open(keys.job_input_key(USER, JOB)):
        pass


STORAGE_DOC = Path(__file__).parents[2] / "docs" / "storage.md"


def _documented_json(heading: str):
    """The first ``json`` block of docs/storage.md after ``heading``."""
    section = STORAGE_DOC.read_text().split(f"\n{heading}\n", 1)[1]
    return json.loads(re.search(r"```json\n(.*?)```", section, re.DOTALL).group(1))


def _boto3(s3_endpoint: str):
    return boto3.client(
        "s3",
        endpoint_url=f"http://{s3_endpoint}",
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY,
        region_name="us-east-1",
    )


def test_the_documented_lifecycle_rules_are_a_valid_s3_configuration_on_our_tag(
    s3_endpoint, client, bucket
):
    rules = _documented_json("### The rules")
    client.make_bucket(bucket)
    s3 = _boto3(s3_endpoint)
    s3.put_bucket_lifecycle_configuration(Bucket=bucket, LifecycleConfiguration=rules)
    installed = s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]
    assert {rule["Filter"]["Tag"]["Value"]: rule["Expiration"]["Days"] for rule in installed} == {
        "chunk": 2,
        "input": 30,
        "output": 60,
    }
    assert {rule["Filter"]["Tag"]["Key"] for rule in installed} == {CLASS_TAG}


def test_the_documented_cors_rule_lets_the_apis_origin_upload_and_no_other(
    s3_endpoint, store, client, bucket
):
    """A browser's preflight for an upload PUT with ``Content-Type``, the request a page at the
    API's origin makes first, is allowed from that origin with the documented methods and
    headers, and refused from another (moto, like S3, matches the rule's origins)."""
    cors = _documented_json("## Browser access: CORS")
    (rule,) = cors["CORSRules"]
    (origin,) = rule["AllowedOrigins"]
    client.make_bucket(bucket)
    s3 = _boto3(s3_endpoint)
    s3.put_bucket_cors(Bucket=bucket, CORSConfiguration=cors)
    assert s3.get_bucket_cors(Bucket=bucket)["CORSRules"] == [rule]
    assert (set(rule["AllowedMethods"]), rule["AllowedHeaders"], set(rule["ExposeHeaders"])) == (
        {"PUT", "GET", "HEAD"},
        ["Content-Type"],
        {"ETag", "Content-Length"},
    )
    url = store.presigned_put_url(keys.job_upload_key(USER, JOB), expires_s=60)

    def preflight(from_origin: str):
        headers = {
            "Origin": from_origin,
            "Access-Control-Request-Method": "PUT",
            "Access-Control-Request-Headers": "content-type",
        }
        request = urllib.request.Request(url, method="OPTIONS", headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=5) as response:
                return response.status, response.headers
        except urllib.error.HTTPError as error:
            with error:
                return error.code, error.headers

    status, headers = preflight(origin)
    assert status == 200
    assert headers["Access-Control-Allow-Origin"] == origin
    assert set(headers["Access-Control-Allow-Methods"].split(", ")) == {"PUT", "GET", "HEAD"}
    assert headers["Access-Control-Allow-Headers"] == "Content-Type"
    assert set(headers["Access-Control-Expose-Headers"].split(", ")) == {"ETag", "Content-Length"}
    assert preflight("https://elsewhere.example")[0] == 403


def test_a_bytearray_put_is_stored_byte_for_byte_across_multipart_parts(store):
    """The delivered file is a bytearray, uploaded without a copy: past the SDK's 5 MiB part,
    so the reader is read in parts, and every byte arrives in order."""
    data = bytearray(np.random.default_rng(7).integers(0, 256, 12 * 1024 * 1024, np.uint8))
    key = f"users/{uuid.uuid4()}/jobs/{uuid.uuid4()}/output.wav"
    store.put(key, data)
    assert store.get(key) == data
