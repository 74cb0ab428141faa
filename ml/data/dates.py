"""Date and time columns, read by the model as one ordered number.

A column of dates inferred as categorical would get one one-hot slot per date: that throws
away their order and, on a few hundred rows, gives the network a slot per date to memorize
rows with (vega's cars: held-out accuracy 0.71 with the model year one-hot, 0.86 without).
The model reads a date column as the year with its fraction (`2024-07-01` -> 2024.5; a time
of day adds its share of a day, a zone is turned into UTC), normalized with the train
split's mean and standard deviation (from the vocabulary's counts); a cell that is not a
date of the column's spelling (missing) gets the mean.

The rule, decided once per column by `data build` (`detect_format`) and written in
schema.json: a text column is a date column when every present value is a date of one
spelling, with months 1-12 and days 1-31, and it has at least two distinct values:

- `iso`: `YYYY-MM-DD`, optionally a time (`T` or a space, `HH:MM[:SS[.fff]]`) and a zone
  (`Z`, `UTC`, `+HH:MM`, `-HHMM`); the same time and zone may follow every spelling below;
- `ymd-slash`: `YYYY/MM/DD`;
- `dmy-dot`: `DD.MM.YYYY`;
- `mdy-slash` / `dmy-slash`: `MM/DD/YYYY` or `DD/MM/YYYY`, only when the column tells which:
  some value has a day above 12 in one place and none has a month above 12 in the other. A
  column where every value reads both ways is not a date column (`ambiguous`), unless one
  of the two places holds the same number in every value (monthly data on the 1st:
  `01/01/2000`, `02/01/2000`, ...): both readings then put the values in the same order,
  which is what the model reads, and the place that varies is read as the month;

and a numeric column is a date column in epoch seconds (`epoch-seconds`) when its header has
the word `epoch`, `unix`, `timestamp` or `ts` and every value is a whole number between
1e8 and 1e10 (1973 to 2286). Seconds, normalized, are already that ordered number: the model
reads such a column as any numeric one. Months and days may have one digit or two.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from typing import Any, Literal

DateFormat = Literal["iso", "ymd-slash", "dmy-dot", "mdy-slash", "dmy-slash", "epoch-seconds"]

_TIME = r"(?:[T ](\d{1,2}):(\d{2})(?::(\d{2})(?:[.,]\d+)?)?)?"
_ZONE = r"\s*(?:Z|UTC|([+-])(\d{2}):?(\d{2}))?"
_YMD = r"(\d{4})-(\d{1,2})-(\d{1,2})"
_YMD_SLASH = r"(\d{4})/(\d{1,2})/(\d{1,2})"
_XY_SLASH = r"(\d{1,2})/(\d{1,2})/(\d{4})"
_DMY_DOT = r"(\d{1,2})\.(\d{1,2})\.(\d{4})"
#: Per text spelling: the pattern (RE2 and Python alike) and the groups of year, month, day
#: (then hour, minute, second, zone sign, zone hours, zone minutes: groups 4-9).
PATTERNS: dict[str, tuple[str, tuple[int, int, int]]] = {
    "iso": (_YMD + _TIME + _ZONE, (1, 2, 3)),
    "ymd-slash": (_YMD_SLASH + _TIME + _ZONE, (1, 2, 3)),
    "dmy-dot": (_DMY_DOT + _TIME + _ZONE, (3, 2, 1)),
    "mdy-slash": (_XY_SLASH + _TIME + _ZONE, (3, 1, 2)),
    "dmy-slash": (_XY_SLASH + _TIME + _ZONE, (3, 2, 1)),
}
_COMPILED = {name: re.compile(pattern) for name, (pattern, _) in PATTERNS.items()}
#: Header words that make a numeric column of whole numbers epoch seconds.
EPOCH_WORDS = frozenset({"epoch", "unix", "timestamp", "ts"})
EPOCH_RANGE = (1e8, 1e10)
_WORDS = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|\d+")


def _fields(match: re.Match[str], order: tuple[int, int, int]) -> list[float]:
    """Year, month, day, hour, minute, second and the zone's offset in hours."""
    year, month, day = (int(match.group(i)) for i in order)
    hour, minute, second = (int(match.group(i) or 0) for i in (4, 5, 6))
    offset = int(match.group(8) or 0) + int(match.group(9) or 0) / 60
    if match.group(7) == "-":
        offset = -offset
    return [year, month, day, hour, minute, second, offset]


def year_fraction(value: str, spelling: str = "iso") -> float:
    """A date of `spelling` as a year with its fraction (UTC): 2024-07-01 -> 2024.5.

    Raises:
        ValueError: `value` is not a date of that spelling.

    """
    match = _COMPILED[spelling].fullmatch(value.strip())
    if match is None:
        raise ValueError(f"{value!r} is not a date of spelling {spelling!r}")
    year, month, day, hour, minute, second, offset = _fields(match, PATTERNS[spelling][1])
    hours = hour + minute / 60 + second / 3600 - offset
    return year + (month - 1) / 12 + (day - 1 + hours / 24) / 365


def _parts(values: list[str], spelling: str) -> list[tuple[int, int]] | None:
    """(first, second) number of each value when all match `spelling`, else None."""
    pattern = _COMPILED[spelling]
    found = []
    for value in values:
        match = pattern.fullmatch(value.strip())
        if match is None:
            return None
        found.append((int(match.group(1)), int(match.group(2))))
    return found


def _calendar(values: list[str], spelling: str) -> bool:
    """Every value's month is 1-12 and day 1-31."""
    order = PATTERNS[spelling][1]
    for value in values:
        match = _COMPILED[spelling].fullmatch(value.strip())
        assert match is not None
        month, day = int(match.group(order[1])), int(match.group(order[2]))
        if not (1 <= month <= 12 and 1 <= day <= 31):
            return False
    return True


def detect_format(values: Iterable[str]) -> DateFormat | Literal["ambiguous"] | None:
    """The spelling of a text column's dates (the module's rule), "ambiguous" or None."""
    present = sorted({v for v in values if v.strip()})
    if len(present) < 2:
        return None
    unambiguous: tuple[DateFormat, ...] = ("iso", "ymd-slash", "dmy-dot")
    for spelling in unambiguous:
        if _parts(present, spelling) is not None:
            return spelling if _calendar(present, spelling) else None
    parts = _parts(present, "mdy-slash")
    if parts is None:
        return None
    told = _slash_format(parts)
    if told is None or told == "ambiguous":
        return told
    return told if _calendar(present, told) else None


def _slash_format(parts: list[tuple[int, int]]) -> DateFormat | Literal["ambiguous"] | None:
    """`mdy-slash` or `dmy-slash` from the two first places of `XX/XX/YYYY` values."""
    first_day = any(a > 12 for a, _ in parts)
    second_day = any(b > 12 for _, b in parts)
    if first_day and second_day:
        return None
    if first_day or second_day:
        return "dmy-slash" if first_day else "mdy-slash"
    # every value reads both ways; with one place fixed both readings order the values
    # alike, and the place that varies is the month
    if len({b for _, b in parts}) == 1:
        return "mdy-slash"
    return "dmy-slash" if len({a for a, _ in parts}) == 1 else "ambiguous"


def is_epoch_seconds(header: str, values: Iterable[float]) -> bool:
    """A numeric column whose header says epoch / unix / timestamp / ts, of whole seconds."""
    words = {w.lower() for w in _WORDS.findall(header)}
    if not words & EPOCH_WORDS:
        return False
    low, high = EPOCH_RANGE
    seen = False
    for value in values:
        if not (math.isfinite(value) and value == int(value) and low <= value <= high):
            return False
        seen = True
    return seen


def date_summary(
    counts: dict[str, int], missing_token: str, spelling: str = "iso"
) -> tuple[float, float] | None:
    """Mean and standard deviation of a date column from its vocabulary counts, or None.

    None when no present value is a date of `spelling`.
    """
    dates = {}
    for value, n in counts.items():
        if value != missing_token and _COMPILED[spelling].fullmatch(value.strip()):
            dates[value] = n
    if not dates:
        return None
    total = sum(dates.values())
    mean = sum(year_fraction(k, spelling) * n for k, n in dates.items()) / total
    variance = sum((year_fraction(k, spelling) - mean) ** 2 * n for k, n in dates.items()) / total
    return mean, math.sqrt(variance) or 1.0


def _rewrite(order: tuple[int, int, int]) -> str:
    """RE2 rewrite: `Y M D 0h 0m 0s ±0zh ±0zm` (a missing group gives 0)."""
    year, month, day = (f"\\{i}" for i in order)
    return f"{year} {month} {day} 0\\4 0\\5 0\\6 \\70\\8 \\70\\9"


def date_layer() -> type:
    """The Keras layer that turns date strings into one normalized column (rows, 1)."""
    import keras
    import tensorflow as tf

    @keras.saving.register_keras_serializable(package="kfstack")
    class DateNumber(keras.layers.Layer):
        """Date strings of one spelling -> (year fraction - mean) / std; others -> 0."""

        def __init__(self, mean: float, std: float, spelling: str = "iso", **kwargs: Any) -> None:
            super().__init__(**kwargs)
            self.mean, self.std, self.spelling = float(mean), float(std), spelling

        def call(self, x: tf.Tensor) -> tf.Tensor:
            pattern, order = PATTERNS[self.spelling]
            text = tf.strings.strip(x)
            ok = tf.strings.regex_full_match(text, pattern)
            fields = tf.strings.regex_replace(text, f"^{pattern}$", _rewrite(order))
            fields = tf.where(ok, fields, "2000 1 1 0 0 0 0 0")
            numbers = tf.strings.to_number(tf.strings.split(fields), tf.float64).to_tensor()
            year, month, day = numbers[:, 0], numbers[:, 1], numbers[:, 2]
            offset = numbers[:, 6] + numbers[:, 7] / 60
            hours = numbers[:, 3] + numbers[:, 4] / 60 + numbers[:, 5] / 3600 - offset
            value = year + (month - 1) / 12 + (day - 1 + hours / 24) / 365
            value = tf.where(ok, (value - self.mean) / self.std, 0.0)
            return tf.cast(value, tf.float32)[:, None]

        def get_config(self) -> dict[str, Any]:
            return {
                **super().get_config(),
                "mean": self.mean,
                "std": self.std,
                "spelling": self.spelling,
            }

    return DateNumber
