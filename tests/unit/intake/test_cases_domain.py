"""Cases as a submitter lives them (``services.intake.domain``): numbers people can read,
secrets kept only as slow hashes, a case opened, added to and withdrawn, looked up with its
secret, and what its status counts. Pure domain, no infrastructure."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from schemas.events import CaseSnapshot, CaseStatus, MediaItem
from schemas.signals import ImageMedia, VideoMedia, vpdq_digest
from services.intake import domain

T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


def image() -> ImageMedia:
    return ImageMedia(pdq=random.randbytes(32).hex(), quality=90, md5=random.randbytes(16).hex())


def video(frames: int = 2) -> VideoMedia:
    return VideoMedia.model_validate(
        {
            "md5": random.randbytes(16).hex(),
            "frames": [
                {"pdq": random.randbytes(32).hex(), "quality": 80, "timestamp": float(i)}
                for i in range(frames)
            ],
        }
    )


def opened(*media: ImageMedia | VideoMedia) -> tuple[CaseSnapshot, str]:
    _, snapshot, secret = domain.open_case(list(media) or [image()], now=T0)
    return snapshot, secret


# --------------------------------------------------------------------- opening


def test_case_numbers_are_readable_and_normalised_from_what_people_type() -> None:
    number = domain.new_case_number()
    assert number.startswith("HVN-") and len(number) == 15
    typed = number.lower().replace("-", " ")
    assert domain.normalise_case_number(typed) == number
    assert domain.normalise_case_number("hvn-0o1il-abcde") == "HVN-00111-ABCDE"
    with pytest.raises(ValueError, match="is not a case number"):
        domain.normalise_case_number("HVN-123")


def test_secret_has_at_least_128_bits_and_is_stored_as_scrypt() -> None:
    secret = domain.new_secret()
    assert len(secret) * 6 >= 128
    stored = domain.hash_secret(secret)
    assert stored.startswith("scrypt$") and secret not in stored
    assert domain.verify_secret(secret, stored)
    assert not domain.verify_secret(secret + "x", stored)
    assert not domain.verify_secret(secret, "md5$abc")


def test_open_case_gives_events_sharing_one_case_id() -> None:
    photo = ImageMedia(pdq="a" * 64, quality=90, md5="b" * 32)
    event, snapshot, secret = domain.open_case([photo, photo])
    assert event.case_id == snapshot.case_id
    assert [item.media_id for item in event.items] == ["m1", "m2"]
    assert domain.verify_secret(secret, snapshot.secret_hash)


def test_a_new_case_is_open_with_its_items_numbered_and_the_secret_only_hashed() -> None:
    photo, clip = image(), video()
    event, snapshot, secret = domain.open_case([photo, clip], now=T0)
    assert snapshot.status is CaseStatus.OPEN
    assert [(i.media_id, i.media) for i in snapshot.items] == [("m1", photo), ("m2", clip)]
    assert event.items == snapshot.items and event.occurred_at == T0
    assert snapshot.opened_at == snapshot.updated_at == T0
    assert domain.normalise_case_number(snapshot.case_number) == snapshot.case_number
    # The secret is shown once: nothing published carries it.
    assert secret not in snapshot.model_dump_json() and secret not in event.model_dump_json()
    assert domain.secret_matches(secret, snapshot)


def test_two_cases_share_no_number_secret_or_id() -> None:
    first = domain.open_case([image()])
    second = domain.open_case([image()])
    assert first[1].case_number != second[1].case_number
    assert first[1].case_id != second[1].case_id
    assert first[2] != second[2]
    assert not domain.secret_matches(first[2], second[1])


# --------------------------------------------------------------------- adding


def test_added_media_continues_the_numbering_and_leaves_the_old_snapshot_alone() -> None:
    snapshot, _ = opened(image(), image())
    added, updated = domain.add_media(snapshot, [video(), image()], now=T0 + timedelta(minutes=3))
    assert [item.media_id for item in added.items] == ["m3", "m4"]
    assert [item.media_id for item in updated.items] == ["m1", "m2", "m3", "m4"]
    assert updated.updated_at == T0 + timedelta(minutes=3) and updated.opened_at == T0
    assert updated.case_number == snapshot.case_number
    assert updated.secret_hash == snapshot.secret_hash  # the same secret still opens it
    assert len(snapshot.items) == 2
    assert domain.snapshot_rank(updated) > domain.snapshot_rank(snapshot)


def test_retrying_the_same_addition_yields_events_recognisable_as_duplicates() -> None:
    snapshot, _ = opened()
    media: list[ImageMedia | VideoMedia] = [image()]
    first = domain.add_media(snapshot, media, now=T0 + timedelta(seconds=1))
    retry = domain.add_media(snapshot, media, now=T0 + timedelta(seconds=2))
    assert first[0].event_id == retry[0].event_id
    assert first[1].event_id == retry[1].event_id
    later, _ = domain.add_media(first[1], [image()])
    assert later.event_id != first[0].event_id


def test_nothing_can_be_added_to_a_withdrawn_case() -> None:
    snapshot, _ = opened()
    _, withdrawn = domain.withdraw(snapshot)
    with pytest.raises(domain.CaseClosed):
        domain.add_media(withdrawn, [image()])


# --------------------------------------------------------------------- withdrawing


def test_withdrawing_keeps_the_items_and_is_idempotent() -> None:
    snapshot, secret = opened(image(), video())
    event, withdrawn = domain.withdraw(snapshot, now=T0 + timedelta(minutes=1))
    assert event.case_id == snapshot.case_id
    assert withdrawn.status is CaseStatus.WITHDRAWN
    assert withdrawn.items == snapshot.items  # platforms learn which fingerprints to release
    assert domain.secret_matches(secret, withdrawn)  # and the submitter can still look
    again, rewithdrawn = domain.withdraw(snapshot, now=T0 + timedelta(minutes=2))
    assert again.event_id == event.event_id and rewithdrawn.event_id == withdrawn.event_id


# --------------------------------------------------------------------- ordering snapshots


def test_later_snapshots_outrank_earlier_ones_and_withdrawal_outranks_the_same_moment() -> None:
    snapshot, _ = opened()
    _, added = domain.add_media(snapshot, [image()], now=T0)  # same instant, more items
    _, withdrawn = domain.withdraw(snapshot, now=T0)  # same instant, withdrawn
    _, later = domain.add_media(snapshot, [image()], now=T0 + timedelta(microseconds=1))
    rank = domain.snapshot_rank
    assert rank(snapshot) < rank(added) < rank(withdrawn) < rank(later)
    # Compared as strings by the read model: every rank has the same width.
    assert len({len(rank(s)) for s in (snapshot, added, withdrawn, later)}) == 1


# --------------------------------------------------------------------- secrets


def test_an_unknown_case_and_a_wrong_secret_look_alike_and_cost_the_same_scrypt(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    snapshot, secret = opened()
    checked: list[str] = []
    real_verify = domain.verify_secret

    def spy(candidate: str, stored: str) -> bool:
        checked.append(stored)
        return real_verify(candidate, stored)

    monkeypatch.setattr(domain, "verify_secret", spy)
    assert domain.secret_matches(secret, snapshot)
    assert not domain.secret_matches(secret + "x", snapshot)
    assert not domain.secret_matches(secret, None)
    assert len(checked) == 3  # the unknown case was checked against a decoy hash too
    assert checked[2].startswith("scrypt$") and checked[2] != snapshot.secret_hash


@pytest.mark.parametrize("stored", ["", "scrypt$1$2", "bcrypt$a$b$c$d$e", "plain"])
def test_a_malformed_stored_hash_opens_nothing(stored: str) -> None:
    assert not domain.verify_secret("anything", stored)


# --------------------------------------------------------------------- case numbers


@pytest.mark.parametrize(
    ("typed", "number"),
    [
        ("HVN-7K3M9-QXA2B", "HVN-7K3M9-QXA2B"),
        ("hvn 7k3m9 qxa2b", "HVN-7K3M9-QXA2B"),
        ("7K3M9QXA2B", "HVN-7K3M9-QXA2B"),  # without the prefix
        (" hvn-7k3m9-qxa2b ", "HVN-7K3M9-QXA2B"),
        ("HVN-0OIL1-ABCDE", "HVN-00111-ABCDE"),  # letters people misread for digits
    ],
)
def test_a_case_number_is_found_however_it_is_typed(typed: str, number: str) -> None:
    assert domain.normalise_case_number(typed) == number


@pytest.mark.parametrize(
    "typed", ["", "HVN-", "HVN-7K3M9-QXA2", "HVN-7K3M9-QXA2BC", "HVN-UUUUU-UUUUU"]
)
def test_what_is_not_a_case_number_is_refused_quoting_it(typed: str) -> None:
    with pytest.raises(ValueError, match="is not a case number") as raised:
        domain.normalise_case_number(typed)
    assert repr(typed) in str(raised.value)


# --------------------------------------------------------------------- limits


def held(*media: ImageMedia | VideoMedia) -> list[MediaItem]:
    return domain.new_media_items(list(media))


def test_a_submission_within_the_limits_has_no_problems() -> None:
    problems = domain.limit_problems(
        [image(), video(3)], existing=held(image()), max_media=5, max_frames=3, max_case_frames=6
    )
    assert problems == []


def test_too_many_items_is_a_problem_that_counts_what_the_case_has_and_was_sent() -> None:
    problems = domain.limit_problems(
        [image(), image()], existing=held(*[image()] * 4), max_media=5, max_frames=10,
        max_case_frames=100,
    )  # fmt: skip
    assert problems == [
        {"field": "items", "message": "a case holds at most 5 items; it has 4 and 2 were sent"}
    ]


def test_a_video_with_too_many_frames_is_named_by_its_place() -> None:
    media: list[ImageMedia | VideoMedia] = [image(), video(2), video(4)]
    problems = domain.limit_problems(media, max_media=2, max_frames=3, max_case_frames=100)
    assert [p["field"] for p in problems] == ["items", "items.2.frames"]
    assert problems[1]["message"] == "4 frames; at most 3 per video"


def test_a_case_has_a_frame_budget_counting_what_it_holds() -> None:
    problems = domain.limit_problems(
        [video(3)], existing=held(video(3)), max_media=5, max_frames=3, max_case_frames=5
    )
    assert problems == [
        {
            "field": "items",
            "message": "a case holds at most 5 video frames in all; this would make it 6 "
            "(open another case for more videos)",
        }
    ]


# --------------------------------------------------------------------- reach


def test_an_item_contributes_its_fingerprints_as_hash_list_keys() -> None:
    photo, clip = image(), video()
    assert domain.item_keys(MediaItem(media_id="m1", media=photo)) == [
        f"pdq:{photo.pdq}",
        f"md5:{photo.md5}",
    ]
    assert domain.item_keys(MediaItem(media_id="m2", media=clip)) == [
        f"md5:{clip.md5}",
        f"vpdq:{vpdq_digest(clip.frames)}",
    ]


def test_reach_counts_each_platform_once_and_only_its_latest_action() -> None:
    facts = {
        "pdq:a": domain.KeyFacts(
            delivered={"alpha", "beta"},
            matched={"alpha"},
            actions={"alpha": ("2", "removed"), "beta": ("1", "blocked")},
        ),
        "md5:a": domain.KeyFacts(
            delivered={"alpha", "gamma"},
            matched={"alpha", "gamma"},
            actions={"alpha": ("1", "under_review"), "beta": ("3", "not_violating")},
        ),
    }
    found = domain.reach(["pdq:a", "md5:a", "vpdq:never-reported"], facts)
    assert found.shared_with == 3
    assert found.matched_on == 2
    assert found.actions == {"blocked": 0, "removed": 1, "not_violating": 1, "under_review": 0}


def test_a_case_nobody_has_reported_on_shows_zero_everywhere() -> None:
    found = domain.reach(["pdq:a"], {})
    assert (found.shared_with, found.matched_on) == (0, 0)
    assert found.actions == dict.fromkeys(domain.ACTION_KINDS, 0)
