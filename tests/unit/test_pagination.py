"""Cursors and pages (voxregen_core/pagination.py): a page of ``limit`` items names the next
with a cursor that decodes, for its own list and user only, to the last item's position."""

import base64
import json
import uuid
from datetime import UTC, datetime, timedelta

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from voxregen_core.errors import InvalidCursorError, InvalidParamsError
from voxregen_core.pagination import PagePosition, PageRequest, page_of, page_request

ALICE = uuid.UUID("a11ce000-0000-4000-8000-000000000001")
BOB = uuid.UUID("b0b00000-0000-4000-8000-000000000002")
T0 = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


@attrs.frozen
class Row:
    id: uuid.UUID
    created_at: datetime


def rows(n: int) -> list[Row]:
    return [Row(uuid.uuid4(), T0 - timedelta(microseconds=k)) for k in range(n)]


@given(limit=st.integers(1, 100), extra=st.integers(0, 1), microseconds=st.integers(0, 999_999))
def test_a_full_page_names_its_last_item_and_only_for_its_list_and_user(limit, extra, microseconds):
    listed = [
        Row(uuid.uuid4(), T0 + timedelta(microseconds=microseconds)) for _ in range(limit + extra)
    ]
    page = page_of(listed, PageRequest(limit=limit), user_id=ALICE, list_name="render-jobs")
    assert page.items == listed[:limit]
    if not extra:
        assert page.next_cursor is None
        return
    request = page_request(
        user_id=ALICE, list_name="render-jobs", limit=limit, cursor=page.next_cursor
    )
    assert request.after == PagePosition(
        created_at=listed[limit - 1].created_at, id=listed[limit - 1].id
    )
    for user_id, list_name in ((BOB, "render-jobs"), (ALICE, "singer-profiles")):
        with pytest.raises(InvalidCursorError, match="another list or another caller"):
            page_request(user_id=user_id, list_name=list_name, limit=limit, cursor=page.next_cursor)


def _forged(content: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(content).encode()).decode()


@pytest.mark.parametrize(
    "cursor",
    [
        "0",
        "not a cursor",
        "%%%%",
        _forged([1, 2]),
        _forged({"v": 1}),
        _forged(
            {
                "v": 2,
                "list": "render-jobs",
                "user": "x",
                "created_at": T0.isoformat(),
                "id": str(ALICE),
            }
        ),
        _forged(
            {
                "v": 1,
                "list": "render-jobs",
                "user": "x",
                "created_at": "2026-12-01T12:00",
                "id": str(ALICE),
            }
        ),
        _forged(
            {
                "v": 1,
                "list": "render-jobs",
                "user": "x",
                "created_at": T0.isoformat(),
                "id": "alice",
            }
        ),
        base64.urlsafe_b64encode(b"\xff\xfe").decode(),
        _forged(
            {"v": 1, "list": "render-jobs", "user": "x", "created_at": T0.isoformat(), "id": 123}
        ),
        _forged({"v": 1, "list": "render-jobs", "user": "x", "created_at": 5, "id": str(ALICE)}),
        _forged(
            {"v": 1, "list": "render-jobs", "user": "x", "created_at": T0.isoformat(), "id": []}
        ),
        _forged("a string"),
    ],
)
def test_a_cursor_the_api_did_not_give_is_refused(cursor):
    with pytest.raises(InvalidCursorError, match="not one this API gave"):
        page_request(user_id=ALICE, list_name="render-jobs", limit=20, cursor=cursor)


@pytest.mark.parametrize("limit", [0, -1, 101])
def test_a_limit_outside_1_to_100_is_refused(limit):
    with pytest.raises(InvalidParamsError, match="limit must be from 1 to 100"):
        page_request(user_id=ALICE, list_name="render-jobs", limit=limit, cursor=None)


def test_the_first_page_starts_at_the_top():
    assert page_request(user_id=ALICE, list_name="x", limit=5, cursor=None) == PageRequest(limit=5)
    assert page_of(rows(0), PageRequest(limit=5), user_id=ALICE, list_name="x").items == []
