"""The options of early stopping: the spec's ``training.early_stopping`` section and the
``EarlyStopping`` callback's settings (``modular_nn.model.callbacks``)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class EarlyStoppingConfig(BaseModel):
    """Early-stopping options (Keras names and defaults), also the spec's
    ``training.early_stopping`` section."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    monitor: str = Field("val_loss", min_length=1, description="the logged value to watch")
    patience: int = Field(
        0, ge=0, description="epochs without improvement after which training stops"
    )
    min_delta: float = Field(0.0, ge=0, description="smallest change that counts as improvement")
    mode: Literal["auto", "min", "max"] = Field(
        "auto", description="auto: max for accuracy, precision, recall, f1; min otherwise"
    )
    restore_best_weights: bool = Field(
        False, description="at the end, go back to the weights of the best epoch"
    )
