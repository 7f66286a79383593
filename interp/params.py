"""JIT parameters: defaults, the global configuration, and ``set_param``.

Parameters are process-wide defaults (``configure`` / ``--param NAME=VALUE``) that
``set_param(driver, ...)`` can override per driver.
"""
from __future__ import annotations

import dataclasses
import os
from typing import Any

DEFAULTS: dict[str, Any] = {
    "threshold": 1039,         # merge-point passes before a green key is traced
    "function_threshold": 1619,
    "trace_limit": 6000,       # recorded ops before a trace is aborted
    "bridge_threshold": 200,   # failures of one guard before a bridge is traced
    "trace_eagerness": 200,    # alias of bridge_threshold (RPython's name)
    "max_retrace_guards": 15,
    "decay": 40,
    "abort_backoff": 4,        # an aborted key waits threshold * backoff**n before the next try
    "max_aborts": 3,           # aborts before a key is blacklisted
    "strict": 0,               # 1: an unsupported construct is an error, not an abort
    "check_hints": 0,          # 1: verify elidable, immutable fields, greens
    "enable_opts": "all",
    "inline": 1,
    "bridge_preamble_limit": 400,  # a bridge copies a preamble of at most this many ops to enter its loop's body
    "native_threshold": 100_000,  # --backend auto: iterations of a unit on Python before native code
    "max_code_mb": 256,        # native code past this stays on the Python backend
    "cache_dir": "",           # native object code cache: "" the user's cache directory, "off" none
}


class ParamError(ValueError):
    pass


def _coerce(name: str, value: Any) -> Any:
    if name not in DEFAULTS:
        raise ParamError(f"unknown JIT parameter {name!r}; known: {', '.join(sorted(DEFAULTS))}")
    default = DEFAULTS[name]
    if isinstance(default, int) and not isinstance(value, int):
        try:
            return int(value)
        except (TypeError, ValueError):
            raise ParamError(f"JIT parameter {name} takes an integer, not {value!r}") from None
    if name == "enable_opts":
        from metajit.tracer.opt.pipeline import PipelineError, pass_names
        try:
            pass_names(str(value))
        except PipelineError as exc:
            raise ParamError(str(exc)) from None
    return value


@dataclasses.dataclass
class JitConfig:
    enabled: bool = True
    backend: str = "auto"           # reference | python | native | auto
    params: dict = dataclasses.field(default_factory=lambda: dict(DEFAULTS))
    dump_dir: str | None = None
    log: bool = bool(os.environ.get("METAJIT_LOG"))

    def get(self, name: str, driver=None) -> Any:
        if driver is not None and driver.state is not None:
            value = driver.state.params.get(name)
            if value is not None:
                return value
        return self.params[name]


config = JitConfig()


def configure(enabled: bool | None = None, backend: str | None = None,
              params: dict | None = None, dump_dir: str | None = None,
              log: bool | None = None, reset: bool = False) -> JitConfig:
    """Set the process-wide JIT configuration (``reset`` starts from the defaults)."""
    global config
    if reset:
        config = JitConfig()
        from metajit.interp.warmstate import reset_all_states
        reset_all_states()
    if enabled is not None:
        config.enabled = enabled
    if backend is not None:
        if backend not in ("reference", "python", "native", "auto"):
            raise ParamError(f"unknown backend {backend!r}: choose reference, python, native or auto")
        config.backend = backend
    for name, value in (params or {}).items():
        config.params[name] = _coerce(name, value)
    if dump_dir is not None:
        config.dump_dir = dump_dir
    if log is not None:
        config.log = log
    return config


def get_config() -> JitConfig:
    return config


def set_param(driver, name: str, value: Any) -> None:
    value = _coerce(name, value)
    if driver is None or driver.state is None:
        config.params[name] = value
    else:
        driver.state.params[name] = value
    if name == "threshold":
        from metajit.interp.warmstate import threshold_changed
        threshold_changed(driver)
