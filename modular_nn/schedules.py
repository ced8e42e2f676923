"""Learning-rate schedules, declared in an optimizer's spec.

A schedule maps the optimizer's 1-based step ``s`` (its iteration count,
saved in checkpoints, so a resumed run continues exactly) and the base
``learning_rate`` to the rate used for that step::

    {"type": "adam", "learning_rate": 0.001,
     "schedule": {"type": "cosine", "decay_steps": 1000, "warmup_steps": 100}}

Every schedule accepts ``warmup_steps`` W (default 0): for ``s <= W`` the rate
rises linearly, ``lr * s / W``; after it the decay runs on ``t = s - W - 1``
(so the first step after warm-up uses ``lr`` itself). Without warm-up
``t = s - 1``.

- ``constant``: ``lr``.
- ``step_decay``: ``lr * decay_rate ** floor(t / decay_steps)`` (PyTorch ``StepLR``).
- ``exponential``: ``lr * decay_rate ** (t / decay_steps)``; with ``staircase``
  the exponent is floored, as in Keras ``ExponentialDecay``.
- ``cosine``: ``lr * ((1 - alpha) * (1 + cos(pi * min(t, decay_steps) / decay_steps)) / 2
  + alpha)`` (Keras ``CosineDecay``; ``alpha`` is the final fraction of ``lr``).
"""

from __future__ import annotations

import math
from typing import Annotated, Literal, Union

from pydantic import BaseModel, ConfigDict, Field


class _Schedule(BaseModel):
    """Options every schedule has."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    type: str
    warmup_steps: int = Field(0, ge=0, description="steps of linear warm-up from 0 to lr")

    def __call__(self, learning_rate: float, step: int) -> float:
        """The rate for the 1-based ``step``."""
        warmup = self.warmup_steps
        if step <= warmup:
            return learning_rate * step / warmup
        return self.decayed(learning_rate, step - warmup - 1)

    def decayed(self, learning_rate: float, t: int) -> float:
        """The rate after ``t`` steps of decay."""
        return learning_rate


class Constant(_Schedule):
    """lr (after the optional warm-up)."""

    type: Literal["constant"] = "constant"


class StepDecay(_Schedule):
    """lr * decay_rate ** floor(t / decay_steps)."""

    type: Literal["step_decay"] = "step_decay"
    decay_steps: int = Field(..., gt=0, description="steps between two decays")
    decay_rate: float = Field(0.1, gt=0, le=1, description="factor applied at each decay")

    def decayed(self, learning_rate: float, t: int) -> float:
        return learning_rate * self.decay_rate ** (t // self.decay_steps)


class ExponentialDecay(_Schedule):
    """lr * decay_rate ** (t / decay_steps), floored exponent with ``staircase``."""

    type: Literal["exponential"] = "exponential"
    decay_steps: int = Field(..., gt=0, description="steps over which lr is multiplied by rate")
    decay_rate: float = Field(..., gt=0, le=1, description="decay factor per decay_steps")
    staircase: bool = Field(False, description="decay in discrete jumps")

    def decayed(self, learning_rate: float, t: int) -> float:
        exponent = t // self.decay_steps if self.staircase else t / self.decay_steps
        return learning_rate * self.decay_rate**exponent


class CosineDecay(_Schedule):
    """lr * ((1 - alpha) * (1 + cos(pi * min(t, decay_steps) / decay_steps)) / 2 + alpha)."""

    type: Literal["cosine"] = "cosine"
    decay_steps: int = Field(..., gt=0, description="steps from lr down to alpha * lr")
    alpha: float = Field(0.0, ge=0, le=1, description="final rate as a fraction of lr")

    def decayed(self, learning_rate: float, t: int) -> float:
        progress = min(t, self.decay_steps) / self.decay_steps
        cosine = 0.5 * (1.0 + math.cos(math.pi * progress))
        return learning_rate * ((1.0 - self.alpha) * cosine + self.alpha)


Schedule = Annotated[
    Union[Constant, StepDecay, ExponentialDecay, CosineDecay],  # noqa: UP007
    Field(discriminator="type"),
]
