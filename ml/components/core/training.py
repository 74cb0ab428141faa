"""The training steps' parameters (0 and "" mean "from the data") -> a `TrainConfig`."""

from ml.model.training import TrainConfig


def train_config(
    *,
    epochs: int,
    batch_size: int,
    learning_rate: float,
    patience: int,
    class_weight: str,
    seed: int,
) -> TrainConfig:
    """The TrainConfig of a train step: 0 for epochs, batch size or patience is automatic.

    Raises:
        ValueError: a value TrainConfig refuses (a class weight it does not know ...).

    """
    return TrainConfig(
        epochs=epochs or None,
        batch_size=batch_size or None,
        learning_rate=learning_rate,
        patience=patience or None,
        class_weight=class_weight,  # type: ignore[arg-type]
        seed=seed,
    )
