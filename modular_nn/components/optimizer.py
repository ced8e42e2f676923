"""The base class of optimizers.

An optimizer owns the update rule and its per-parameter state ("slots", such
as Adam's moments), keyed by parameter name (``dense_1/kernel``). ``bind``
attaches it to a model's parameters and gradients once; ``step`` then updates
every parameter in place from its gradient. ``state_dict``/``load_state_dict``
carry the state into and out of checkpoints, so training resumes exactly.

``learning_rate_scale`` (1 unless a callback such as ``ReduceLROnPlateau``
changed it) multiplies the rate of every step, after the ``schedule``; it is
part of the state, so a resumed run keeps a reduced rate.
"""

from __future__ import annotations

import math
from typing import Any, ClassVar, Optional

import numpy as np
from pydantic import Field

from modular_nn.components.component import Component, ComponentConfig
from modular_nn.schedules import Schedule


class OptimizerConfig(ComponentConfig):
    """Options every optimizer has."""

    learning_rate: float = Field(0.01, gt=0, description="step size")
    schedule: Optional[Schedule] = Field(  # noqa: UP045 - pydantic schema reads better
        None,
        description="learning-rate schedule (constant, step_decay, exponential, cosine), "
        "a function of the optimizer's step count; see modular_nn.schedules",
    )
    global_clipnorm: Optional[float] = Field(  # noqa: UP045
        None, gt=0, description="rescale all gradients so their global L2 norm is at most this"
    )


class Optimizer(Component):
    """Base class for optimizers; register subclasses through ``register_optimizers``."""

    type_name: ClassVar[str] = ""
    Config: ClassVar[type[ComponentConfig]] = OptimizerConfig

    def __init__(self, config: ComponentConfig | None = None, **options: Any) -> None:
        super().__init__(config, **options)
        self.iterations = 0
        #: multiplies the rate of every step, after the schedule (ReduceLROnPlateau sets it)
        self.learning_rate_scale = 1.0
        self.slots: dict[str, dict[str, np.ndarray]] = {}
        self._bound: list[tuple[str, np.ndarray, np.ndarray]] = []

    # ----- wiring ----------------------------------------------------------------
    def bind(self, params: dict[str, np.ndarray], grads: dict[str, np.ndarray]) -> None:
        """Attach to named parameters and their gradient arrays (updated in place)."""
        self._bound = [(name, params[name], grads[name]) for name in params]
        for name, param, _ in self._bound:
            if name not in self.slots:
                self.slots[name] = self.init_slots(param)

    def init_slots(self, param: np.ndarray) -> dict[str, np.ndarray]:
        """Per-parameter state for ``param`` (zeros of its shape, usually)."""
        return {}

    # ----- the update --------------------------------------------------------------
    def learning_rate_at(self, step: int) -> float:
        """Learning rate for the 1-based ``step``: the config's ``schedule`` if any, times
        ``learning_rate_scale``."""
        lr = float(self.config.learning_rate)  # type: ignore[attr-defined]
        schedule = self.config.schedule  # type: ignore[attr-defined]
        rate = lr if schedule is None else schedule(lr, step)
        return rate * self.learning_rate_scale

    @property
    def learning_rate(self) -> float:
        """The learning rate the next step will use."""
        return self.learning_rate_at(self.iterations + 1)

    def step(self) -> None:
        """Update every bound parameter in place from its gradient.

        With ``global_clipnorm`` the gradients are first scaled in place by
        ``min(1, clipnorm / ||g||)``, ``||g||`` the L2 norm over all of them.
        """
        self.iterations += 1
        lr = self.learning_rate_at(self.iterations)
        clipnorm = self.config.global_clipnorm  # type: ignore[attr-defined]
        if clipnorm is not None:
            self.clip_gradients(clipnorm)
        for name, param, grad in self._bound:
            self.update(param, grad, self.slots[name], lr)

    def clip_gradients(self, clipnorm: float) -> float:
        """Scale the bound gradients in place to a global norm of at most ``clipnorm``.

        Returns the norm before clipping; a non-finite norm leaves them as they are.
        """
        norm = math.sqrt(sum(_squared_norm(g) for _, _, g in self._bound))
        if math.isfinite(norm) and norm > clipnorm:
            scale = clipnorm / norm
            for _, _, grad in self._bound:
                grad *= scale
        return norm

    def update(
        self, param: np.ndarray, grad: np.ndarray, slots: dict[str, np.ndarray], lr: float
    ) -> None:
        """Apply the rule to one parameter, in place."""
        raise NotImplementedError

    # ----- state ---------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """``{"iterations": int, "learning_rate_scale": float,
        "slots": {param name: {slot name: array}}}``."""
        return {
            "iterations": self.iterations,
            "learning_rate_scale": self.learning_rate_scale,
            "slots": {name: dict(slots) for name, slots in self.slots.items()},
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore what ``state_dict`` returned (slot arrays are copied in place)."""
        self.iterations = int(state["iterations"])
        self.learning_rate_scale = float(state.get("learning_rate_scale", 1.0))
        for name, slots in state.get("slots", {}).items():
            mine = self.slots.setdefault(name, {})
            for slot, value in slots.items():
                if slot in mine and mine[slot].shape == np.shape(value):
                    mine[slot][...] = value
                else:
                    mine[slot] = np.array(value)


def _squared_norm(grad: np.ndarray) -> float:
    """sum(g^2), in the gradient's dtype; redone in float64 when float32 overflows."""
    value = float(np.vdot(grad, grad))
    if math.isinf(value) and grad.dtype != np.float64:
        as64 = grad.astype(np.float64).ravel()
        value = float(np.dot(as64, as64))
    return value
