"""Send rows in batches and find the rows an endpoint rejects, without any I/O of its own.

A predict call is all or nothing: one bad row makes the server reject its whole batch. So a
rejected batch is split in halves until each rejected row stands alone with the server's
reason; the rows around it still get predictions. After `isolate_limit` rejected rows the
search stops and further rejected batches count all their rows, with the batch's reason, so a
server that rejects everything costs one request per batch, not one per row.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from ml.servecheck.protocol import batches

#: Rejected rows searched one by one before whole batches are counted as rejected.
ISOLATE_LIMIT = 50


@dataclass(frozen=True)
class Accepted:
    """The endpoint answered: predictions of the rows sent, in order (and its class names)."""

    predictions: np.ndarray
    classes: tuple[str, ...] | None = None


@dataclass(frozen=True)
class Refused:
    """The endpoint refused the rows sent (HTTP 400/422) and said why."""

    reason: str


Reply = Accepted | Refused
Send = Callable[[Sequence[int]], Reply]


@dataclass(frozen=True)
class Rejection:
    """Rows the endpoint rejected for one reason (row indices into the holdout, 0-based)."""

    reason: str
    rows: tuple[int, ...]


@dataclass
class Outcome:
    """Predictions of the accepted rows and the rejected rows, with the server's reasons."""

    rows: int
    predictions: dict[int, np.ndarray] = field(default_factory=dict)
    rejected: dict[int, str] = field(default_factory=dict)
    requests: int = 0
    classes: tuple[str, ...] | None = None

    @property
    def accepted(self) -> np.ndarray:
        """Sorted row indices that got a prediction."""
        return np.array(sorted(self.predictions), dtype=np.int64)

    def stacked(self) -> np.ndarray:
        """The predictions of the accepted rows, in row order, as one array."""
        return np.stack([self.predictions[i] for i in sorted(self.predictions)])

    def rejections(self) -> list[Rejection]:
        """The rejected rows grouped by reason, the most frequent reason first."""
        counts = Counter(self.rejected.values())
        return [
            Rejection(reason, tuple(sorted(r for r, why in self.rejected.items() if why == reason)))
            for reason, _ in counts.most_common()
        ]


def predict_all(
    send: Send,
    rows: int,
    *,
    batch_size: int,
    isolate_limit: int = ISOLATE_LIMIT,
    on_batch: Callable[[int], None] | None = None,
) -> Outcome:
    """Ask `send` for predictions of rows 0..rows-1, batch by batch.

    Args:
        send: Sends some row indices, returns Accepted or Refused; raises for anything else
            (timeouts, auth, server errors), which stops the check.
        rows: How many rows the holdout has.
        batch_size: Rows per request.
        isolate_limit: Rejected rows searched one by one before whole batches count.
        on_batch: Called with the number of rows of each batch done (progress).

    """
    outcome = Outcome(rows=rows)
    for batch in batches(rows, batch_size):
        _resolve(send, list(batch), outcome, isolate_limit)
        if on_batch is not None:
            on_batch(len(batch))
    return outcome


def _resolve(send: Send, rows: list[int], outcome: Outcome, limit: int) -> None:
    outcome.requests += 1
    reply = send(rows)
    if isinstance(reply, Accepted):
        outcome.classes = outcome.classes or reply.classes
        for row, prediction in zip(rows, reply.predictions, strict=True):
            outcome.predictions[row] = prediction
        return
    if len(rows) == 1:
        outcome.rejected[rows[0]] = reply.reason
        return
    if len(outcome.rejected) >= limit:
        reason = f"{reply.reason} (a batch of {len(rows)} rows, not searched row by row)"
        outcome.rejected.update(dict.fromkeys(rows, reason))
        return
    half = len(rows) // 2
    _resolve(send, rows[:half], outcome, limit)
    _resolve(send, rows[half:], outcome, limit)
