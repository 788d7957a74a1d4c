"""Experiment options, declared once on a ``Config`` dataclass's fields.

A field made with :func:`option` is a command-line option: its type, default, one-line help
and check are the single declaration behind ``reproduce run NAME --help``, ``reproduce list``,
every validation error, ``config.json`` and the options a sweep passes through. A field made
with :func:`nested` holds a nested config whose own :func:`option` fields become options too
(``--policy`` sets ``dqn.policy.name``). Fields made with plain ``dataclasses.field`` are
settings of the published algorithm, recorded in ``config.json`` but not options.

Imports nothing heavy: ``reproduce list`` and ``--help`` must answer at once.
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import types
import typing
from collections.abc import Callable
from dataclasses import dataclass, field

from reproduce.errors import ConfigError


@dataclass(frozen=True)
class Check:
    """A value rule and the words an error uses for it (``expects a positive integer``)."""

    expects: str
    ok: Callable[[object], bool]
    suggest: Callable[[object], str | None] = lambda value: None
    """the closest valid value to a bad one, for the error's hint"""


POSITIVE = Check("a positive integer", lambda v: v > 0)
LIMIT = 10**12
"""The largest integer any option takes: no run could finish more steps, episodes or rounds."""
NON_NEGATIVE = Check("an integer >= 0", lambda v: v >= 0)


def _env_known(env_id: str) -> bool:
    import gymnasium as gym

    return env_id in gym.registry


def _closest_env(env_id) -> str | None:
    import difflib

    import gymnasium as gym

    close = difflib.get_close_matches(str(env_id), list(gym.registry), n=1)
    return close[0] if close else None


ENV_ID = Check("a registered gymnasium env id", _env_known, _closest_env)


def option(default, help: str, *, check: Check | None = None, choices: tuple | None = None,
           flag: str | None = None):
    """A config field that is also a command-line option (``--name-with-dashes`` unless ``flag``)."""
    return field(default=default, metadata={"help": help, "check": check, "choices": choices, "flag": flag})


def nested(factory: Callable[[], object]):
    """A nested config field whose own :func:`option` fields are options of the experiment too."""
    return field(default_factory=factory, metadata={"nested": True})


@dataclass(frozen=True)
class Option:
    path: tuple[str, ...]
    flag: str
    type: type
    default: object
    help: str
    check: Check | None
    choices: tuple | None

    def expects(self) -> str:
        if self.choices:
            return "one of " + ", ".join(map(str, self.choices))
        if self.check:
            return self.check.expects
        return {int: "an integer", float: "a number", bool: "true or false"}.get(self.type, "a string")

    def error(self, got) -> ConfigError:
        close = self.check.suggest(got) if self.check else None
        example = self.choices[0] if self.choices else self.default
        hint = f"did you mean {close!r}?" if close else f"e.g. {self.flag} {example}"
        return ConfigError(f"{self.flag} expects {self.expects()}, got {got!r}; {hint}")

    def convert(self, text):
        """The typed value of ``text`` (a string from the command line, or a value from Python)."""
        if self.type is bool:
            if isinstance(text, bool):
                return text
            raise self.error(text)
        if isinstance(text, bool) or (self.type is int and isinstance(text, float)):
            raise self.error(text)
        try:
            value = self.type(text)
        except (TypeError, ValueError):
            raise self.error(text) from None
        if self.type is int and isinstance(text, str) and str(value) != text.strip().lstrip("+"):
            raise self.error(text)
        if (self.choices and value not in self.choices) or (self.check and not self.check.ok(value)):
            raise self.error(text)
        if self.type is int and abs(value) > LIMIT:
            raise ConfigError(f"{self.flag} expects at most {LIMIT:_} (no run could finish more), "
                              f"got {text!r}; e.g. {self.flag} {self.default}")
        if self.type is float and not math.isfinite(value) and math.isfinite(self.default or 0.0):
            raise ConfigError(f"{self.flag} expects a finite number, got {text!r}; "
                              f"e.g. {self.flag} {self.default}")
        return value


def options(cls) -> list[Option]:
    """Every option of config class ``cls``, nested ones included, with ``cls()``'s defaults."""
    return _walk(cls, cls(), ())


def _walk(cls, defaults, prefix) -> list[Option]:
    hints = typing.get_type_hints(cls)
    out = []
    for f in dataclasses.fields(cls):
        value = getattr(defaults, f.name)
        if f.metadata.get("nested"):
            out += _walk(type(value), value, prefix + (f.name,))
        elif "help" in f.metadata:
            flag = f.metadata["flag"] or "--" + f.name.replace("_", "-")
            out.append(Option(prefix + (f.name,), flag, hints[f.name], value, f.metadata["help"],
                              f.metadata["check"], f.metadata["choices"]))
    return out


def add_arguments(parser: argparse.ArgumentParser, cls) -> None:
    """One argparse option per config option; values stay raw until :func:`from_args` checks them."""
    for opt in options(cls):
        help_text = f"{opt.help} (default {opt.default})"
        if opt.type is bool:
            parser.add_argument(opt.flag, dest=_dest(opt), action=argparse.BooleanOptionalAction,
                                default=None, help=help_text)
        else:
            parser.add_argument(opt.flag, dest=_dest(opt), default=None, metavar=opt.flag[2:].upper(),
                                help=help_text)


def _dest(opt: Option) -> str:
    return "opt__" + "__".join(opt.path)


def from_args(cls, args: argparse.Namespace, **values):
    """``cls()`` with every option given on the command line (and ``values``), checked."""
    config = cls(**values)
    for opt in options(cls):
        given = getattr(args, _dest(opt), None)
        if given is not None:
            config = _replace(config, opt.path, opt.convert(given))
    return validate(config)


def validate(config):
    """Check every option's value of ``config`` (also for configs built in Python); return it."""
    for opt in options(type(config)):
        value = _get(config, opt.path)
        if opt.convert(value) != value:
            raise opt.error(value)
    return config


def describe(config) -> str:
    """``flag=value`` for every option: what ``reproduce list`` prints."""
    return ", ".join(f"{opt.flag[2:]}={_get(config, opt.path)}" for opt in options(type(config)))


def _get(config, path):
    for name in path:
        config = getattr(config, name)
    return config


def _replace(config, path, value):
    if len(path) == 1:
        return dataclasses.replace(config, **{path[0]: value})
    return dataclasses.replace(config, **{path[0]: _replace(getattr(config, path[0]), path[1:], value)})


def from_json(cls, data, source: str = "config.json"):
    """``cls`` rebuilt from its JSON form (a resumed run's ``config.json``), every field checked against
    its declaration: an option's type, choices and check, a setting's type, nested configs as objects;
    unknown keys refused. A damaged file is one ``ConfigError`` naming the field."""
    if not isinstance(data, dict):
        raise ConfigError(f"{source} expects a JSON object, got {type(data).__name__}")
    return _from_json(cls, {k: v for k, v in data.items() if k != "experiment"}, (), source)


def _from_json(cls, data: dict, prefix: tuple, source: str):
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    for key in data:
        if key not in fields:
            raise ConfigError(f"{source}: unknown field {'.'.join(prefix + (key,))!r} (expected some of: "
                              f"{', '.join(fields)}); remove it, or start the run again with --force")
    values = {}
    for name, value in data.items():
        path = prefix + (name,)
        values[name] = _typed(hints[name], value, path, source)
        meta = fields[name].metadata
        if "help" in meta:  # an option: its choices and check too
            opt = Option(path, meta["flag"] or "--" + name.replace("_", "-"), hints[name],
                         fields[name].default, meta["help"], meta["check"], meta["choices"])
            try:
                opt.convert(values[name])
            except ConfigError:
                raise _field_error(source, path, opt.expects(), value) from None
    try:
        return cls(**values)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{source}: {'.'.join(prefix) or cls.__name__}: {exc}") from None


def _field_error(source: str, path: tuple, expects: str, got) -> ConfigError:
    return ConfigError(f"{source}: field {'.'.join(path)!r} expects {expects}, got {got!r}; fix it, or start "
                       f"the run again with --force")


def _typed(tp, value, path: tuple, source: str):
    """``value`` as type ``tp`` (JSON lists become tuples), or a ConfigError naming the field."""
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        for arg in (a for a in args if a is not type(None)):
            try:
                return _typed(arg, value, path, source)
            except ConfigError:
                continue
        raise _field_error(source, path, " or ".join(_name(a) for a in args), value)
    if dataclasses.is_dataclass(tp):
        if not isinstance(value, dict):
            raise _field_error(source, path, f"an object ({_name(tp)})", value)
        return _from_json(tp, value, path, source)
    if origin is tuple:
        if not isinstance(value, list | tuple):
            raise _field_error(source, path, "a list", value)
        if args and args[-1] is Ellipsis:
            return tuple(_typed(args[0], v, path, source) for v in value)
        if args and len(args) != len(value):
            raise _field_error(source, path, f"a list of {len(args)} values", value)
        return tuple(_typed(a, v, path, source) for a, v in zip(args, value)) if args else tuple(value)
    ok = {int: lambda v: isinstance(v, int) and not isinstance(v, bool),
          float: lambda v: isinstance(v, int | float) and not isinstance(v, bool),
          bool: lambda v: isinstance(v, bool), str: lambda v: isinstance(v, str)}.get(tp)
    if ok is None:
        return value  # a type without a JSON rule: taken as stored
    if not ok(value):
        raise _field_error(source, path, _name(tp), value)
    return float(value) if tp is float else value


def _name(tp) -> str:
    return {int: "an integer", float: "a number", bool: "true or false", str: "a string",
            type(None): "null"}.get(tp, getattr(tp, "__name__", str(tp)))
