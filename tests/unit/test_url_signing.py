"""Signed storage URLs: a signature grants exactly one method on one key until its expiry."""

import time
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from tests import strategies as vst
from voxregen_adapters import url_signing
from voxregen_adapters.local_object_store import LocalObjectStore
from voxregen_adapters.url_signing import sign, signed_url, verify
from voxregen_core.errors import InvalidParamsError

SECRET = bytes(range(32))
KEY = (
    "users/11111111-1111-4111-8111-111111111111/jobs/22222222-2222-4222-8222-222222222222/input.wav"
)
EXPIRES_AT_S = 1_800_000_000

methods = st.sampled_from(url_signing.METHODS)
expiries = st.integers(min_value=0, max_value=2**40)
secrets = st.binary(min_size=32, max_size=64)


def test_a_signature_is_64_hex_digits_and_deterministic():
    signature = sign(method="PUT", key=KEY, expires_at_s=EXPIRES_AT_S, signing_key=SECRET)
    assert len(signature) == 64 and int(signature, 16) >= 0
    assert signature == sign(method="PUT", key=KEY, expires_at_s=EXPIRES_AT_S, signing_key=SECRET)


@given(method=methods, key=vst.storage_keys, expires_at_s=expiries, secret=secrets)
def test_a_fresh_signature_verifies(method, key, expires_at_s, secret):
    signature = sign(method=method, key=key, expires_at_s=expires_at_s, signing_key=secret)
    assert verify(
        method=method,
        key=key,
        expires_at_s=expires_at_s,
        signature=signature,
        signing_key=secret,
        now_s=expires_at_s - 1,
    )


@given(
    method=methods,
    key=vst.storage_keys,
    expires_at_s=expiries,
    secret=secrets,
    change=st.sampled_from(["method", "key", "expiry", "signature", "secret"]),
    data=st.data(),
)
def test_any_change_to_method_key_expiry_signature_or_secret_fails(
    method, key, expires_at_s, secret, change, data
):
    signature = sign(method=method, key=key, expires_at_s=expires_at_s, signing_key=secret)
    claim = {
        "method": method,
        "key": key,
        "expires_at_s": expires_at_s,
        "signature": signature,
        "signing_key": secret,
    }
    if change == "method":
        claim["method"] = next(other for other in url_signing.METHODS if other != method)
    elif change == "key":
        claim["key"] = data.draw(vst.storage_keys.filter(lambda other: other != key))
    elif change == "expiry":
        # A later expiry is the tamper that matters (an attacker extending a URL's life).
        claim["expires_at_s"] = expires_at_s + data.draw(st.integers(min_value=1, max_value=10**9))
    elif change == "signature":
        claim["signature"] = data.draw(st.text(min_size=0, max_size=80))
        assume(claim["signature"] != signature)
    else:
        claim["signing_key"] = data.draw(secrets.filter(lambda other: other != secret))
    assert not verify(**claim, now_s=expires_at_s - 1)


def test_expiry_boundary_valid_before_refused_at_and_after():
    signature = sign(method="GET", key=KEY, expires_at_s=EXPIRES_AT_S, signing_key=SECRET)

    def valid_at(now_s: float) -> bool:
        return verify(
            method="GET",
            key=KEY,
            expires_at_s=EXPIRES_AT_S,
            signature=signature,
            signing_key=SECRET,
            now_s=now_s,
        )

    assert valid_at(EXPIRES_AT_S - 1) and valid_at(EXPIRES_AT_S - 0.001)
    assert not valid_at(EXPIRES_AT_S)
    assert not valid_at(EXPIRES_AT_S + 1)


def test_a_signature_with_non_ascii_or_uppercase_characters_is_refused_not_an_error():
    signature = sign(method="GET", key=KEY, expires_at_s=EXPIRES_AT_S, signing_key=SECRET)
    assert signature.upper() != signature
    for forged in ("é" * 64, signature.upper(), signature + "0", signature[:-1], ""):
        assert not verify(
            method="GET",
            key=KEY,
            expires_at_s=EXPIRES_AT_S,
            signature=forged,
            signing_key=SECRET,
            now_s=0,
        )


def test_an_unknown_method_is_refused():
    with pytest.raises(InvalidParamsError, match="method must be one of"):
        sign(method="DELETE", key=KEY, expires_at_s=EXPIRES_AT_S, signing_key=SECRET)
    signature = sign(method="GET", key=KEY, expires_at_s=EXPIRES_AT_S, signing_key=SECRET)
    assert not verify(
        method="get",
        key=KEY,
        expires_at_s=EXPIRES_AT_S,
        signature=signature,
        signing_key=SECRET,
        now_s=0,
    )


@pytest.mark.parametrize("signing_key", [b"", b"x" * 31, "x" * 32])
def test_a_short_or_textual_signing_key_is_refused(signing_key):
    with pytest.raises(InvalidParamsError, match="signing key must be at least 32 bytes"):
        sign(method="GET", key=KEY, expires_at_s=EXPIRES_AT_S, signing_key=signing_key)


def test_a_non_integer_expiry_is_refused():
    with pytest.raises(InvalidParamsError, match="expires_at_s must be whole unix seconds"):
        sign(method="GET", key=KEY, expires_at_s=1.5, signing_key=SECRET)


def test_signed_url_shape():
    url = signed_url(
        "https://voxregen.example/",
        method="PUT",
        key=KEY,
        expires_at_s=EXPIRES_AT_S,
        signing_key=SECRET,
    )
    signature = sign(method="PUT", key=KEY, expires_at_s=EXPIRES_AT_S, signing_key=SECRET)
    assert url == (
        f"https://voxregen.example/storage/{KEY}?expires={EXPIRES_AT_S}&signature={signature}"
    )


def _grant(url: str) -> tuple[str, int, str]:
    """What the HTTP app will read from a request URL: key, expiry, signature."""
    parts = urlsplit(url)
    query = parse_qs(parts.query)
    key = unquote(parts.path.removeprefix("/storage/"))
    return key, int(query["expires"][0]), query["signature"][0]


@pytest.mark.parametrize("method", url_signing.METHODS)
def test_local_store_urls_verify_for_their_method_and_key_only(tmp_path, method):
    store = LocalObjectStore(tmp_path, public_url="http://127.0.0.1:8000", signing_key=SECRET)
    before_s = int(time.time())
    presign = store.presigned_put_url if method == "PUT" else store.presigned_get_url
    url = presign(KEY, expires_s=600)
    assert url.startswith("http://127.0.0.1:8000/storage/")
    key, expires_at_s, signature = _grant(url)
    assert key == KEY
    assert before_s + 600 <= expires_at_s <= int(time.time()) + 600
    grant = {"key": key, "expires_at_s": expires_at_s, "signature": signature}
    now_s = time.time()
    assert verify(method=method, **grant, signing_key=SECRET, now_s=now_s)
    other_method = "GET" if method == "PUT" else "PUT"
    assert not verify(method=other_method, **grant, signing_key=SECRET, now_s=now_s)
    assert not verify(method=method, **grant, signing_key=SECRET, now_s=expires_at_s)
    assert not verify(method=method, **grant, signing_key=bytes(32), now_s=now_s)


def test_local_store_refuses_a_short_signing_key(tmp_path):
    with pytest.raises(InvalidParamsError, match="at least 32 bytes, got 5"):
        LocalObjectStore(tmp_path, public_url="http://127.0.0.1:8000", signing_key=b"short")
