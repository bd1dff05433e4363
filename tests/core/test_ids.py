"""Ids: every prefix of DESIGN.md §3, seeded generation, clock stamps, strict parsing."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime, timedelta, timezone
from random import Random

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import TypeAdapter, ValidationError

from simpletrader.core import ids as ids_module
from simpletrader.core.ids import (
    ID_FORMATS,
    IdGenerator,
    new_run_id,
    pack_id,
    prefix_of,
    stamp_of,
    unpack_id,
)

DESIGN_PREFIXES = [
    "TCK", "SCH", "NWS", "SIG", "RSK", "STR", "ENT", "SIZ", "EXT", "EXP",
    "EXC", "BAT", "TPL", "EXG", "ORD", "FIL", "JRN", "RUN",
]  # fmt: skip
MOMENT = datetime(2024, 3, 9, 14, 30, 5, 123456, tzinfo=UTC)
MOMENT_NS = int(MOMENT.timestamp()) * 1_000_000_000 + 123_456_789
VALID = "ORD_20240309_143005_0a1b2c3d"
ID_TYPES = {
    "SIG": ids_module.SignalId,
    "RSK": ids_module.RiskId,
    "STR": ids_module.DirectiveId,
    "ENT": ids_module.EntryPlanId,
    "SIZ": ids_module.SizePlanId,
    "EXT": ids_module.ExitPlanId,
    "EXP": ids_module.ExecutionPlanId,
    "EXC": ids_module.CommandId,
    "BAT": ids_module.BatchId,
    "TPL": ids_module.TradePlanId,
    "EXG": ids_module.GroupId,
    "ORD": ids_module.OrderId,
    "FIL": ids_module.FillId,
    "JRN": ids_module.JournalEntryId,
    "RUN": ids_module.RunId,
}


def test_every_design_prefix_has_a_format() -> None:
    assert set(DESIGN_PREFIXES) == set(ID_FORMATS)
    for prefix, fmt in ID_FORMATS.items():
        assert fmt.prefix == prefix
        assert fmt.meaning


def test_same_seed_gives_the_same_sequence() -> None:
    prefixes = ["ORD", "FIL", "SIG", "ORD", "EXC"] * 4
    one, two = IdGenerator(42), IdGenerator(42)
    assert [one.new(p, MOMENT) for p in prefixes] == [two.new(p, MOMENT) for p in prefixes]
    fresh = {IdGenerator(42).new(p, MOMENT)[-8:] for p in prefixes}
    assert len(fresh) == 1  # a fresh generator always starts with the same draw


def test_different_seeds_give_different_sequences() -> None:
    a, b = IdGenerator(1), IdGenerator(2)
    assert [a.new("ORD", MOMENT) for _ in range(5)] != [b.new("ORD", MOMENT) for _ in range(5)]


def test_successive_ids_of_one_generator_differ() -> None:
    gen = IdGenerator(7)
    drawn = [gen.new("ORD", MOMENT) for _ in range(200)]
    assert len(set(drawn)) == len(drawn)


def test_stamp_comes_from_the_given_datetime() -> None:
    assert IdGenerator(0).new("ORD", MOMENT).startswith("ORD_20240309_143005_")


def test_stamp_comes_from_integer_nanoseconds() -> None:
    assert IdGenerator(0).new("FIL", MOMENT_NS).startswith("FIL_20240309_143005_")


def test_datetime_and_nanoseconds_of_one_instant_give_the_same_id() -> None:
    assert IdGenerator(3).new("SIG", MOMENT) == IdGenerator(3).new("SIG", MOMENT_NS)


def test_stamp_of_an_offset_datetime_is_in_utc() -> None:
    local = MOMENT.astimezone(timezone(timedelta(hours=-5)))
    assert stamp_of(local) == "20240309_143005"
    assert IdGenerator(0).new("ORD", local).startswith("ORD_20240309_143005_")


def test_stamp_follows_the_clock_across_seconds() -> None:
    gen = IdGenerator(0)
    stamps = [gen.new("ORD", MOMENT + timedelta(seconds=s))[4:19] for s in (0, 0.5, 1, 61, 3600)]
    assert stamps == [
        "20240309_143005",
        "20240309_143005",
        "20240309_143006",
        "20240309_143106",
        "20240309_153005",
    ]


def test_stamp_of_rejects_a_naive_datetime() -> None:
    with pytest.raises(ValueError, match="ids need a tz-aware timestamp"):
        stamp_of(datetime(2024, 1, 1))


def test_generator_rejects_a_naive_datetime() -> None:
    with pytest.raises(ValueError, match="ids need a tz-aware timestamp"):
        IdGenerator(0).new("ORD", datetime(2024, 1, 1))


def test_generator_rejects_a_naive_datetime_after_a_stamp_of_the_same_second() -> None:
    gen = IdGenerator(0)
    naive_local = datetime.fromtimestamp(MOMENT.timestamp())
    gen.new("ORD", MOMENT)
    with pytest.raises(ValueError, match="ids need a tz-aware timestamp"):
        gen.new("ORD", naive_local)


def test_unknown_prefix_is_refused_by_the_generator() -> None:
    with pytest.raises(KeyError):
        IdGenerator(0).new("XYZ", MOMENT)


@pytest.mark.parametrize("prefix", DESIGN_PREFIXES)
def test_prefix_of_reads_a_well_formed_id(prefix: str) -> None:
    assert prefix_of(f"{prefix}_20240309_143005_0a1b2c3d") == prefix


@pytest.mark.parametrize(
    "value",
    [
        "",
        "ORD",
        "ORD_",
        "XYZ_20240309_143005_0a1b2c3d",
        "ord_20240309_143005_0a1b2c3d",
        "ORD_20240309_143005_0A1B2C3D",
        "ORD_2024039_143005_0a1b2c3d",
        "ORD_20240309_14305_0a1b2c3d",
        "ORD_20240309_143005_0a1b2c3",
        "ORD_20240309_143005_0a1b2c3d0",
        "ORD_20240309_143005_0a1b2c3g",
        "ORD-20240309-143005-0a1b2c3d",
        "ORD_20240309143005_0a1b2c3d",
        " ORD_20240309_143005_0a1b2c3d",
        "ORD_20240309_143005_0a1b2c3d ",
        "ORDX_20240309_143005_0a1b2c3d",
    ],
)
def test_prefix_of_rejects_a_malformed_id(value: str) -> None:
    with pytest.raises(ValueError, match=r"is not a simpletrader id \(PREFIX_YYYYMMDD_HHMMSS_"):
        prefix_of(value)


def test_prefix_of_rejects_a_trailing_newline() -> None:
    with pytest.raises(ValueError, match="is not a simpletrader id"):
        prefix_of(VALID + "\n")


def test_id_type_rejects_a_trailing_newline() -> None:
    with pytest.raises(ValidationError, match="String should match pattern"):
        TypeAdapter(ids_module.OrderId).validate_python(VALID + "\n")


@pytest.mark.parametrize("prefix", sorted(ID_TYPES))
def test_id_type_accepts_only_its_prefix(prefix: str) -> None:
    adapter = TypeAdapter(ID_TYPES[prefix])
    assert adapter.validate_python(f"{prefix}_20240309_143005_0a1b2c3d")
    other = "SIG" if prefix != "SIG" else "ORD"
    with pytest.raises(ValidationError, match=rf"String should match pattern '\^{prefix}_"):
        adapter.validate_python(f"{other}_20240309_143005_0a1b2c3d")


def test_origin_and_plan_id_types_accept_their_prefix_families() -> None:
    origin = TypeAdapter(ids_module.OriginId)
    plan = TypeAdapter(ids_module.PlanId)
    for prefix in ("TCK", "SCH", "NWS"):
        origin.validate_python(f"{prefix}_20240309_143005_0a1b2c3d")
    for prefix in ("ENT", "SIZ", "EXT", "EXP"):
        plan.validate_python(f"{prefix}_20240309_143005_0a1b2c3d")
    with pytest.raises(ValidationError):
        origin.validate_python(VALID)
    with pytest.raises(ValidationError):
        plan.validate_python("STR_20240309_143005_0a1b2c3d")


def test_run_ids_are_stamped_and_not_seeded() -> None:
    first, second = new_run_id(MOMENT), new_run_id(MOMENT)
    assert prefix_of(first) == "RUN"
    assert first.startswith("RUN_20240309_143005_")
    assert first != second  # drawn outside the seeded streams (1 in 2**32 to collide)


def test_run_id_defaults_to_now() -> None:
    assert prefix_of(new_run_id()) == "RUN"


utc_moments = st.datetimes(
    min_value=datetime(1970, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
)
zones = st.one_of(
    st.just(UTC),
    st.timedeltas(
        min_value=timedelta(hours=-23, minutes=-59), max_value=timedelta(hours=23, minutes=59)
    ).map(timezone),
)


@given(
    prefix=st.sampled_from(sorted(ID_FORMATS)),
    seed=st.integers() | st.none(),
    moment=utc_moments,
    zone=zones,
    as_nanoseconds=st.booleans(),
)
def test_generated_ids_match_their_prefix_regex(
    prefix: str, seed: int | None, moment: datetime, zone: timezone, as_nanoseconds: bool
) -> None:
    clock = (
        int(moment.timestamp()) * 1_000_000_000 + moment.microsecond * 1000
        if as_nanoseconds
        else moment.astimezone(zone)
    )
    generated = IdGenerator(seed).new(prefix, clock)
    assert ID_FORMATS[prefix].regex.fullmatch(generated)
    assert re.fullmatch(ID_FORMATS[prefix].pattern, generated)
    assert prefix_of(generated) == prefix
    assert generated[len(prefix) + 1 : len(prefix) + 16] == moment.strftime("%Y%m%d_%H%M%S")
    assert generated[len(prefix) + 1 : len(prefix) + 16] == time.strftime(
        "%Y%m%d_%H%M%S", time.gmtime(int(moment.timestamp()))
    )


@given(seed=st.integers(), moments=st.lists(utc_moments, min_size=1, max_size=20))
def test_same_seed_and_clock_always_give_the_same_ids(seed: int, moments: list[datetime]) -> None:
    one, two = IdGenerator(seed), IdGenerator(seed)
    assert [one.new("ORD", m) for m in moments] == [two.new("ORD", m) for m in moments]


@given(
    seed=st.integers(0, 2**32),
    steps=st.lists(
        st.tuples(
            st.sampled_from(sorted(ID_FORMATS)),
            st.integers(-(10**18), 10**18) | st.integers(0, 200_000 * 10**9),
            st.booleans(),
        ),
        min_size=1,
        max_size=30,
    ),
)
def test_generated_ids_are_the_stamp_and_the_seeded_draw(
    seed: int, steps: list[tuple[str, int, bool]]
) -> None:
    # The generator caches dates, times of day and heads: whatever the order of instants
    # (across days, before 1970, mixed with datetimes), every id is still exactly the stamp
    # of its instant and the next 32-bit draw of the seeded stream in 8 lowercase hex digits.
    gen, draws = IdGenerator(seed), Random(seed)
    for prefix, ns, as_datetime in steps:
        moment = datetime.fromtimestamp(ns // 1_000_000_000, UTC) if as_datetime else ns
        expected = f"{prefix}_{stamp_of(moment)}_{draws.getrandbits(32):08x}"
        assert gen.new(prefix, moment) == expected


def test_ids_drawn_in_blocks_are_the_single_draws_of_the_seeded_stream() -> None:
    # Tails are drawn many at a time: across block boundaries they stay the stream's 32-bit
    # draws, one per id, in order.
    gen, draws = IdGenerator(7), Random(7)
    count = 3 * ids_module._BLOCK_WORDS + 5
    got = [gen.new("ORD", MOMENT_NS)[-8:] for _ in range(count)]
    assert got == [f"{draws.getrandbits(32):08x}" for _ in range(count)]


def test_ids_drawn_at_one_instant_follow_a_stamp_of_another_in_between() -> None:
    # Draws at the instant of the previous draw skip re-stamping: a stamp of another instant
    # (or a datetime draw) in between must not leave them with that instant's heads.
    gen, draws = IdGenerator(3), Random(3)
    later = MOMENT_NS + 3_600 * 1_000_000_000
    assert gen.new("ORD", MOMENT_NS)[4:19] == "20240309_143005"
    gen.stamp(later)
    assert gen.new("ORD", MOMENT_NS)[4:19] == "20240309_143005"
    gen.new("ORD", MOMENT + timedelta(hours=2))
    assert gen.new("ORD", MOMENT_NS)[4:19] == "20240309_143005"
    assert gen.new("FIL", later)[4:19] == "20240309_153005"
    assert gen.new("FIL", later)[4:19] == "20240309_153005"
    draws.getrandbits(32 * 6)
    assert gen.new("FIL", MOMENT_NS)[-8:] == f"{draws.getrandbits(32):08x}"


def test_stamps_of_consecutive_bars_cross_midnight_and_new_year() -> None:
    gen = IdGenerator(0)
    start = int(datetime(2023, 12, 31, 23, 58, 59, tzinfo=UTC).timestamp()) * 1_000_000_000
    got = [gen.new("SIG", start + k * 60_000_000_000)[4:19] for k in range(3)]
    assert got == ["20231231_235859", "20231231_235959", "20240101_000059"]


@given(
    seed=st.integers(0, 2**32),
    ns=st.integers(-(10**18), 10**18),
    prefix=st.sampled_from(DESIGN_PREFIXES),
)
def test_a_generated_id_packs_into_its_bits_and_back(seed: int, ns: int, prefix: str) -> None:
    value = IdGenerator(seed).new(prefix, ns)
    packed = pack_id(value, prefix, ns)
    assert isinstance(packed, int)
    assert unpack_id(packed, prefix, ns) == value
    assert unpack_id(packed, prefix, ns + 5 * 10**9) != value  # read back against its own time


@pytest.mark.parametrize(
    "tail",
    ["+a1b2c3d", "-a1b2c3d", " a1b2c3d", "a1b_2c3d", "A1B2C3D4", "a1b2c3d٣", "a1b2c3dg", "a1b2c3d"],
)
def test_only_the_canonical_form_of_an_id_packs(tail: str) -> None:
    value = f"FIL_20240309_143005_{tail}"
    assert pack_id(value, "FIL", MOMENT_NS) == value
    assert unpack_id(pack_id(value, "FIL", MOMENT_NS), "FIL", MOMENT_NS) == value


@pytest.mark.parametrize(
    ("value", "prefix"),
    [
        ("FIL_20240309_143006_0a1b2c3d", "FIL"),  # drawn in another second
        ("ORD_20240309_143005_0a1b2c3d", "FIL"),  # another prefix
        ("FIL_20240309_143005_0a1b2c3d0", "FIL"),  # too long
        ("FIL_20240309_143005_0a1b2c3", "FIL"),  # too short
        ("FIL_20240309_143005_", "FIL"),  # the head alone
        ("venue-fill-17", "FIL"),
        ("", "FIL"),
    ],
)
def test_an_id_of_another_form_or_instant_stays_a_string(value: str, prefix: str) -> None:
    assert pack_id(value, prefix, MOMENT_NS) == value
    assert unpack_id(value, prefix, MOMENT_NS) == value


@given(value=st.text(max_size=40), ns=st.integers(-(10**18), 10**18))
def test_any_string_comes_back_from_a_pack(value: str, ns: int) -> None:
    assert unpack_id(pack_id(value, "EXC", ns), "EXC", ns) == value


@given(
    steps=st.lists(
        st.tuples(st.integers(0, 2), st.integers(0, 5), st.sampled_from(["FIL", "EXC"])),
        max_size=30,
    )
)
def test_packing_interleaved_with_generators_of_other_seconds_is_exact(
    steps: list[tuple[int, int, str]],
) -> None:
    # Generators share their heads of the second with the packer: whichever drew last, a pack
    # and an unpack must only ever see heads of their own second.
    gens = [IdGenerator(i) for i in range(3)]
    for which, second, prefix in steps:
        ns = MOMENT_NS + second * 1_000_000_000
        value = gens[which].new(prefix, ns)
        assert unpack_id(pack_id(value, prefix, ns), prefix, ns) == value
        other = ns + 1_000_000_000
        assert unpack_id(pack_id(value, prefix, other), prefix, other) == value
        assert value[len(prefix) + 1 : len(prefix) + 16] == stamp_of(ns)
