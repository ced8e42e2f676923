"""What every component (layer, activation, loss, optimizer, initializer) shares.

A component is a class with a registry name (``type_name``) and a pydantic
``Config`` listing its options. It is built from a validated config, and
``get_config()`` gives the options back, so a spec can be written out again.
"""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, ValidationError

from modular_nn.errors import SpecError, SpecIssue


class ComponentConfig(BaseModel):
    """Base of every component's options. Unknown keys are rejected."""

    model_config = ConfigDict(extra="forbid", validate_default=True, allow_inf_nan=False)


class Component:
    """Base of all components.

    Subclasses set ``type_name`` (the name used in specs) and ``Config``.
    ``Component(**options)`` validates the options; ``Component(config)`` takes
    an already validated ``Config`` instance.
    """

    type_name: ClassVar[str] = ""
    Config: ClassVar[type[ComponentConfig]] = ComponentConfig

    def __init__(self, config: ComponentConfig | None = None, **options: Any) -> None:
        if config is None:
            config = self.validate_config(options)
        elif options:
            raise TypeError(f"{type(self).__name__}: pass either a config or options, not both")
        elif not isinstance(config, self.Config):
            config = self.validate_config(
                config.model_dump() if isinstance(config, BaseModel) else dict(config)
            )
        self.config = config

    @classmethod
    def validate_config(cls, options: dict[str, Any]) -> ComponentConfig:
        """Validate ``options`` with ``Config``; problems become one ``SpecError``."""
        from modular_nn.spec.issues import issues_from_validation_error

        try:
            return cls.Config.model_validate(options)
        except ValidationError as exc:
            issues = issues_from_validation_error(exc)
            raise SpecError(issues, source=f"{cls.type_name or cls.__name__} options") from None

    def get_config(self) -> dict[str, Any]:
        """The options, defaults filled in, as JSON-ready data."""
        return self.config.model_dump(mode="json")

    def __repr__(self) -> str:
        options = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({options})"


__all__ = ["Component", "ComponentConfig", "SpecIssue"]
