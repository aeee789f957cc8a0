"""What buyers' photos may cost the service: pixels per photo and per submission, decodes at once per app (a
gate each instance owns), nothing decoded for a submission that is wrong anyway, and replaced photos gone
whatever a moderator did with them; two submissions of one form never interleave."""

from __future__ import annotations

import io
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from fastapi.testclient import TestClient
from PIL import Image

from collectors.forms import review_id
from reviews_service import documents as docs
from reviews_service import domain, form_input, invitation_store, photos, repository
from reviews_service.api.deps import now_dep
from reviews_service.app import create_app
from reviews_service.config import Settings
from tests.conftest import NOW, make_settings
from tests.form_helpers import counts, invite, photo

GOOD = {"rating": "5", "text": "Netjes geleverd.", "rating.oak-chair": "4", "text.oak-chair": "Mooie stoel."}


def _png(side: int, mode: str = "RGBA") -> bytes:
    out = io.BytesIO()
    Image.new(mode, (side, side), (10, 20, 30, 128) if mode == "RGBA" else 0).save(out, "PNG")
    return out.getvalue()


def _post(client: TestClient, token: str, data: dict[str, str], files: list[Any] | None = None) -> Any:
    return client.post(f"/r/{token}", data=data, files=files, follow_redirects=False)


def _app(**env: str) -> tuple[Any, Settings]:
    settings = make_settings(**env)
    app = create_app(settings, connect=False)
    app.dependency_overrides[now_dep] = lambda: NOW
    return app, settings


def test_a_lossless_bomb_of_a_few_kilobytes_is_refused_before_decoding() -> None:
    bomb = _png(6324)  # 40 MP of RGBA in ~170 KB: 160 MB once decoded, more while composited
    assert len(bomb) < 400_000
    with pytest.raises(photos.PhotoRefused) as refused:
        photos.process(bomb)
    assert refused.value.reason == "too-many-pixels"


def test_a_large_png_is_scaled_down_before_anything_else_works_on_it() -> None:
    """A 16 MP transparent PNG (the most a PNG may have) costs one decode's memory, not a copy per step."""
    script = (
        "import io, resource, sys\n"
        "from PIL import Image\n"
        "from reviews_service import photos\n"
        "out = io.BytesIO(); Image.new('RGBA', (4000, 4000), (10, 20, 30, 128)).save(out, 'PNG')\n"
        "data = out.getvalue()\n"
        "before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        "done = photos.process(data)\n"
        "print((resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) // 1024, done.width, done.height)\n"
    )
    ran = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True)
    grown_mb, width, height = (int(x) for x in ran.stdout.split())
    assert (width, height) == (photos.MAX_SIDE, photos.MAX_SIDE)
    # decoded whole it is 64 MB; converting and compositing at full size took ~200 MB more
    assert grown_mb < 150, f"processing a 16 MP PNG grew the process by {grown_mb} MB"


def test_no_photo_is_decoded_when_a_text_field_is_already_wrong() -> None:
    decoded: list[int] = []

    def decode(data: bytes) -> photos.Processed:
        decoded.append(len(data))
        return photos.process(data)

    upload = form_input.Upload("photo.oak-chair", "chair.jpg", photo())
    wrong = form_input.check("nl", [*GOOD.items(), ("rating", "9")], [upload], ["oak-chair"], decode)
    assert not wrong.ok and "rating" in wrong.errors and decoded == []
    assert wrong.uploaded == {"oak-chair"}  # the form asks for that photo again
    right = form_input.check("nl", list(GOOD.items()), [upload], ["oak-chair"], decode)
    assert right.ok and len(decoded) == 1 and len(right.photos["oak-chair"]) == 1


def test_one_submission_s_photos_are_bounded_in_pixels_together(
    client: TestClient, shop: domain.BusinessUnit, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(photos, "PIXEL_BUDGET", 2 * 800 * 600)
    invitation, token = invite(settings)
    files = [("photo.oak-chair", (f"p{i}.jpg", photo(size=(800, 600)), "image/jpeg")) for i in range(3)]
    before = counts(invitation.id)
    answer = _post(client, token, GOOD, files)
    assert answer.status_code == 422 and counts(invitation.id) == before
    assert "“p2.jpg” en de foto’s ervoor hebben samen te veel pixels" in answer.text
    assert _post(client, token, GOOD, files[:2]).status_code == 303


def test_photos_wait_for_the_app_s_decode_gate_and_the_buyer_keeps_their_text(
    connected: object, shop: domain.BusinessUnit
) -> None:
    app, settings = _app(REVIEWS_PHOTO_DECODES="1", REVIEWS_PHOTO_WAIT_SECONDS="0.3")
    other, _ = _app(REVIEWS_PHOTO_DECODES="1", REVIEWS_PHOTO_WAIT_SECONDS="0.3")
    invitation, token = invite(settings)
    files = [("photo.oak-chair", ("chair.jpg", photo(), "image/jpeg"))]
    gate = app.state.limits.photo_decodes
    assert gate.enter()  # every place of this instance taken
    try:
        with TestClient(app) as client:
            before = counts(invitation.id)
            busy = _post(client, token, {**GOOD, "text": "Mijn eigen woorden"}, files)
            assert busy.status_code == 503 and busy.headers["retry-after"] == "1"
            assert counts(invitation.id) == before
            assert "Mijn eigen woorden" in busy.text and "kies uw foto’s opnieuw" in busy.text
            assert _post(client, token, GOOD).status_code == 303  # no photo: no gate
        with TestClient(other) as client:  # a second replica has its own places
            assert _post(client, token, GOOD, files).status_code == 303
    finally:
        gate.leave()
    with TestClient(app) as client:
        assert _post(client, token, GOOD, files).status_code == 303
    assert gate.active == 0


def test_decodes_at_once_never_pass_the_gate_under_parallel_posts(
    connected: object, shop: domain.BusinessUnit, monkeypatch: pytest.MonkeyPatch
) -> None:
    app, settings = _app(REVIEWS_PHOTO_DECODES="2", REVIEWS_PHOTO_WAIT_SECONDS="20")
    lock = threading.Lock()
    running, most = [0], [0]
    real = photos.process

    def slow(data: bytes) -> photos.Processed:
        with lock:
            running[0] += 1
            most[0] = max(most[0], running[0])
        try:
            time.sleep(0.15)
            return real(data)
        finally:
            with lock:
                running[0] -= 1

    monkeypatch.setattr(photos, "process", slow)
    tokens = [invite(settings, order_ref=f"ORDER-{i}")[1] for i in range(6)]
    files = [("photo.oak-chair", ("chair.jpg", photo(), "image/jpeg"))]
    with TestClient(app) as client, ThreadPoolExecutor(6) as pool:
        answers = list(pool.map(lambda token: _post(client, token, GOOD, files).status_code, tokens))
    assert answers == [303] * 6
    assert most[0] == 2


def test_a_photo_a_moderator_hid_goes_when_the_buyer_replaces_it(
    client: TestClient, shop: domain.BusinessUnit, settings: Settings, admin: dict[str, str]
) -> None:
    invitation, token = invite(settings)
    first = [("photo.oak-chair", ("first.jpg", photo(color="red"), "image/jpeg"))]
    assert _post(client, token, GOOD, first).status_code == 303
    owner = review_id(invitation, "oak-chair")
    (hidden,) = repository.get_review(owner).photos
    answer = client.patch(f"/v1/admin/photos/{hidden}", headers=admin, json={"status": "hidden", "reason": "Gezicht"})
    assert answer.status_code == 200, answer.text
    second = [("photo.oak-chair", ("second.jpg", photo(color="blue"), "image/jpeg"))]
    assert _post(client, token, GOOD, second).status_code == 303
    (kept,) = repository.get_review(owner).photos
    assert photos.get_photo(hidden) is None  # not kept where a moderator could publish it over the new one
    assert [p["_id"] for p in docs.PhotoDoc._get_collection().find({}, {"_id": 1})] == [kept]
    # a hidden photo of a product given no new photo stays, hidden, for the moderators
    answer = client.patch(f"/v1/admin/photos/{kept}", headers=admin, json={"status": "hidden", "reason": "Gezicht"})
    assert answer.status_code == 200
    assert _post(client, token, {**GOOD, "text": "Toch wel mooi."}).status_code == 303
    assert photos.get_photo(kept) is not None


def test_a_second_submission_while_one_is_being_stored_waits_its_turn(
    client: TestClient, shop: domain.BusinessUnit, settings: Settings
) -> None:
    invitation, token = invite(settings)
    assert invitation_store.begin_submission(invitation.id, NOW)  # another process is storing this form
    before = counts(invitation.id)
    files = [("photo.oak-chair", ("chair.jpg", photo(), "image/jpeg"))]
    answer = _post(client, token, GOOD, files)
    assert answer.status_code == 409 and counts(invitation.id) == before
    assert f"/r/{token}/thanks" in answer.text and answer.headers["retry-after"] == "2"
    invitation_store.end_submission(invitation.id)
    assert _post(client, token, GOOD, files).status_code == 303
    assert invitation_store.begin_submission(invitation.id, NOW)  # given back after the store


def test_a_lease_left_by_a_dead_process_lapses(connected: object, settings: Settings) -> None:
    invitation, _ = invite(settings)
    assert invitation_store.begin_submission(invitation.id, NOW)
    assert not invitation_store.begin_submission(invitation.id, NOW)
    assert invitation_store.begin_submission(invitation.id, NOW + invitation_store.SUBMITTING)


def test_parallel_submissions_of_one_form_leave_no_photo_the_review_does_not_list(
    connected: object, shop: domain.BusinessUnit
) -> None:
    app, settings = _app(REVIEWS_PHOTO_DECODES="4")
    invitation, token = invite(settings)
    files = [("photo.oak-chair", ("chair.jpg", photo(size=(1200, 900)), "image/jpeg"))]
    with TestClient(app) as client, ThreadPoolExecutor(4) as pool:
        answers = list(pool.map(lambda _: _post(client, token, GOOD, files).status_code, range(8)))
    assert 303 in answers and set(answers) <= {303, 409}
    listed = set(repository.get_review(review_id(invitation, "oak-chair")).photos)
    stored = {raw["_id"] for raw in docs.PhotoDoc._get_collection().find({}, {"_id": 1})}
    assert stored == listed and len(listed) == 1
