"""Hypothesis strategies for the bureau's inputs: amounts (valid and not), deltas, choices."""

from __future__ import annotations

from hypothesis import strategies as st

from domain.limits import AMOUNT_MINOR_MAX

# Small amounts make collisions with remainders and appropriations likely, which is where
# the rules bite; the edges of the allowed range are drawn too.
small_amounts = st.integers(min_value=1, max_value=60_000)
amounts = st.one_of(small_amounts, st.sampled_from([1, AMOUNT_MINOR_MAX]))

# Everything an amount must not be: zero, negative, too large, a bool, a float.
invalid_amounts = st.one_of(
    st.sampled_from([0, -1, AMOUNT_MINOR_MAX + 1, 10**18, True, False, 1.0, 0.5]),
    st.integers(max_value=0),
    st.integers(min_value=AMOUNT_MINOR_MAX + 1),
    st.floats(allow_nan=False, allow_infinity=False),
)

# Zero, the one refused value, comes up as the edge of the range rather than half the time.
amounts_or_zero = st.integers(min_value=0, max_value=60_000)
spendings_or_zero = st.integers(min_value=0, max_value=20_000)

# A delta may be negative; zero is refused as an amount out of range.
deltas = st.integers(min_value=-60_000, max_value=60_000)

locales = st.sampled_from(["urban", "town", "rural"])
levels = st.sampled_from(["primary", "junior"])
poverty_flags = st.booleans()
mostly_false = st.sampled_from([False, False, False, True])
earmarks = st.sampled_from(["none", "rural_support"])
level_restrictions = st.sampled_from([(), ("primary",)])

# Picks an element of a list that grows during a test: an index taken modulo its length + 1,
# where the extra slot stands for something that does not exist.
picks = st.integers(min_value=0, max_value=10_000)
