"""Finding, loading and registering plugins.

``load_plugins()`` builds a fresh pluggy manager for one hub instance (never at import time, so
tests and tenants stay isolated). The core's defaults are registered first, through the same
hooks a third-party plugin implements. Then each ``hub`` entry point is loaded on its own: one
that fails to import, implements a misspelled hook, or registers a name another plugin owns is
recorded as failed and the rest keep working.

Environment switches:

``HUB_LOAD_PLUGINS``
    Comma-separated entry-point or distribution names to load; anything else installed is
    skipped. ``HUB_LOAD_PLUGINS=''`` loads none (the defaults still load), which rescues a hub
    from a broken install.
``HUB_STRICT_PLUGINS=1``
    A plugin that fails to load is fatal (for CI).
"""

from __future__ import annotations

import difflib
import importlib
import inspect
import logging
import os
import traceback
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from importlib import metadata
from types import ModuleType
from typing import Any

import pluggy

from hub import hookspecs
from hub.jobs import JobKind
from hub.providers import KIND_BASES, Kind, Provider, missing_methods

ENTRY_POINT_GROUP = "hub"
LOAD_ENV = "HUB_LOAD_PLUGINS"
STRICT_ENV = "HUB_STRICT_PLUGINS"

log = logging.getLogger("hub.plugins")

DEFAULT_PLUGINS = (
    "hub.defaults.console",
    "hub.defaults.generic",
    "hub.defaults.log",
    "hub.defaults.email",
    "hub.defaults.sms",
    "hub.defaults.rules",
)

_REGISTER_HOOKS: dict[str, Kind] = {
    "hub_register_call_sources": Kind.CALL_SOURCE,
    "hub_register_sms_senders": Kind.SMS_SENDER,
    "hub_register_reply_parsers": Kind.REPLY_PARSER,
    "hub_register_sinks": Kind.SINK,
}


class PluginError(Exception):
    """A plugin could not be loaded or registered."""


@dataclass
class PluginInfo:
    """One loaded (or failed) plugin, as ``hub plugins`` shows it."""

    name: str
    module: str
    distribution: str | None = None
    version: str | None = None
    default: bool = False
    error: str | None = None
    provides: list[tuple[Kind | str, str]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.error is None

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "module": self.module,
            "distribution": self.distribution,
            "version": self.version,
            "default": self.default,
            "status": "ok" if self.ok else "failed",
            "error": self.error,
            "provides": [{"kind": str(kind), "name": name} for kind, name in self.provides],
        }


class Plugins:
    """The plugin manager of one hub instance and what its plugins registered."""

    def __init__(self) -> None:
        self.pm = pluggy.PluginManager(hookspecs.PROJECT)
        self.pm.add_hookspecs(hookspecs)
        self.infos: list[PluginInfo] = []
        self.providers: dict[Kind, dict[str, type[Provider[Any]]]] = {kind: {} for kind in Kind}
        self.job_kinds: dict[str, JobKind] = {}
        self._owners: dict[tuple[Kind | str, str], PluginInfo] = {}

    # -- lookups ----------------------------------------------------------------------------------

    def provider(self, kind: Kind, name: str) -> type[Provider[Any]]:
        """The class registered as ``name`` for ``kind``; ``LookupError`` says what exists."""
        try:
            return self.providers[kind][name]
        except KeyError:
            raise LookupError(self.unknown_provider_message(kind, name)) from None

    def owner(self, kind: Kind, name: str) -> str:
        """The name of the plugin that registered provider ``name`` of ``kind``."""
        info = self._owners.get((kind, name))
        return info.name if info is not None else name

    def job_owner(self, kind: str) -> str:
        """The name of the plugin that registered job kind ``kind``."""
        info = self._owners.get(("job", kind))
        return info.name if info is not None else kind

    def unknown_provider_message(self, kind: Kind, name: str) -> str:
        known = sorted(self.providers[kind])
        message = f"unknown {kind.replace('_', ' ')} {name!r}"
        close = difflib.get_close_matches(name, known, n=1)
        if close:
            message += f" (did you mean {close[0]!r}?)"
        message += f"; installed: {', '.join(known) if known else 'none'}"
        failed = [info.name for info in self.infos if not info.ok]
        if failed:
            message += f"; failed to load: {', '.join(failed)} (see `hub plugins`)"
        return message

    @property
    def failed(self) -> list[PluginInfo]:
        return [info for info in self.infos if not info.ok]

    # -- loading ----------------------------------------------------------------------------------

    def add(self, plugin: ModuleType | object, info: PluginInfo, *, strict: bool) -> None:
        """Register one plugin object and run its registration hooks, all or nothing."""
        self.infos.append(info)
        try:
            if self.pm.is_registered(plugin):
                raise PluginError(f"already loaded as {self.pm.get_name(plugin)!r}")
            self.pm.register(plugin, name=info.name)
            try:
                self._check_hooks(info.name)
                self._run_registrations(plugin, info)
            except BaseException:
                self._forget(plugin, info)
                raise
        except Exception as exc:
            info.error = _describe(exc)
            if strict:
                raise PluginError(f"plugin {info.name!r} failed: {info.error}") from exc

    def _check_hooks(self, plugin_name: str) -> None:
        # pluggy's check_pending() covers every plugin; run it right after this one registered
        # so a misspelled hook names the plugin that has it.
        try:
            self.pm.check_pending()
        except pluggy.PluginValidationError as exc:
            known = [name for name in dir(hookspecs) if name.startswith("hub_")]
            hook_names = [
                caller.name
                for caller in self.pm.get_hookcallers(self.pm.get_plugin(plugin_name)) or ()
                if not caller.has_spec()
            ]
            hints = []
            for name in hook_names:
                close = difflib.get_close_matches(name, known, n=1)
                hints.append(
                    f"{name} is not a hub hook" + (f" (did you mean {close[0]}?)" if close else "")
                )
            raise PluginError("; ".join(hints) or str(exc)) from exc

    def _run_registrations(self, plugin: object, info: PluginInfo) -> None:
        for hook_name, kind in _REGISTER_HOOKS.items():
            impl = getattr(plugin, hook_name, None)
            if impl is not None:
                impl(register=self._registrar(kind, info))
        impl = getattr(plugin, "hub_register_job_kinds", None)
        if impl is not None:
            impl(register=self._job_registrar(info))

    def _registrar(self, kind: Kind, info: PluginInfo) -> Callable[[type[Provider[Any]]], None]:
        base = KIND_BASES[kind]

        def register(cls: type[Provider[Any]]) -> None:
            if not (isinstance(cls, type) and issubclass(cls, base)):
                raise PluginError(f"{cls!r} registered as a {kind} is not a {base.__name__}")
            name = getattr(cls, "name", None)
            if not isinstance(name, str) or not name:
                raise PluginError(f"{cls.__name__} has no `name`")
            missing = missing_methods(cls)
            if missing:
                methods = ", ".join(f"{method}()" for method in missing)
                raise PluginError(
                    f"{_origin(info)}: {cls.__name__} does not implement {methods}, "
                    f"which every {kind} must"
                )
            self._claim((kind, name), info)
            self.providers[kind][name] = cls
            info.provides.append((kind, name))

        return register

    def _job_registrar(self, info: PluginInfo) -> Callable[[JobKind], None]:
        def register(job_kind: JobKind) -> None:
            self._claim(("job", job_kind.name), info)
            self.job_kinds[job_kind.name] = job_kind
            info.provides.append(("job", job_kind.name))

        return register

    def _claim(self, key: tuple[Kind | str, str], info: PluginInfo) -> None:
        owner = self._owners.get(key)
        if owner is not None and owner is not info:
            raise PluginError(
                f"{key[0]} {key[1]!r} is already registered by {_origin(owner)}; "
                f"{_origin(info)} registers it too"
            )
        self._owners[key] = info

    def _forget(self, plugin: object, info: PluginInfo) -> None:
        if self.pm.is_registered(plugin):
            self.pm.unregister(plugin)
        for kind, name in info.provides:
            if isinstance(kind, Kind):
                self.providers[kind].pop(name, None)
            else:
                self.job_kinds.pop(name, None)
            self._owners.pop((kind, name), None)
        info.provides.clear()

    # -- calling lifecycle hooks ------------------------------------------------------------------

    async def call_lifecycle(
        self, hook_name: str, *, tolerate: bool = False, **kwargs: Any
    ) -> None:
        """Call every implementation of a lifecycle hook and await what it returns."""
        caller = getattr(self.pm.hook, hook_name)
        for impl in reversed(caller.get_hookimpls()):
            try:
                result = impl.function(**{arg: kwargs[arg] for arg in impl.argnames})
                if inspect.isawaitable(result):
                    await result
            except Exception:
                if not tolerate:
                    raise
                log.exception("%s of plugin %r failed", hook_name, impl.plugin_name)


def load_plugins(
    *,
    entry_points: Iterable[metadata.EntryPoint] | None = None,
    environ: dict[str, str] | None = None,
    extra: Iterable[object] = (),
) -> Plugins:
    """Build the plugin manager for one hub: defaults, then entry points, then ``extra`` objects
    (handy in tests)."""
    env = os.environ if environ is None else environ
    strict = env.get(STRICT_ENV, "").lower() in {"1", "true", "yes"}
    wanted = _wanted(env.get(LOAD_ENV))
    plugins = Plugins()

    for module_name in DEFAULT_PLUGINS:
        module = importlib.import_module(module_name)
        info = PluginInfo(name=module_name.rsplit(".", 1)[1], module=module_name, default=True)
        info.distribution, info.version = "hub-core", _version("hub-core")
        plugins.add(module, info, strict=True)

    found = sorted(
        metadata.entry_points(group=ENTRY_POINT_GROUP) if entry_points is None else entry_points,
        key=lambda ep: ep.name,
    )
    installed = {ep.name for ep in found} | {ep.dist.name for ep in found if ep.dist is not None}
    for name in sorted((wanted or set()) - installed):
        # A typo in HUB_LOAD_PLUGINS would otherwise load nothing, silently.
        info = PluginInfo(name=name, module="-")
        known = ", ".join(sorted(ep.name for ep in found)) or "none"
        info.error = f"no such plugin is installed (installed: {known})"
        plugins.infos.append(info)
        if strict:
            raise PluginError(f"{LOAD_ENV} names plugin {name!r}: {info.error}")
    for ep in found:
        dist = ep.dist.name if ep.dist is not None else None
        if wanted is not None and ep.name not in wanted and dist not in wanted:
            continue
        info = PluginInfo(name=ep.name, module=ep.value, distribution=dist)
        info.version = ep.dist.version if ep.dist is not None else None
        if plugins.pm.has_plugin(ep.name):
            plugins.infos.append(info)
            info.error = f"another plugin is already named {ep.name!r}"
            if strict:
                raise PluginError(f"plugin {ep.name!r} failed: {info.error}")
            continue
        try:
            loaded = ep.load()
        except Exception as exc:
            plugins.infos.append(info)
            info.error = _describe(exc)
            if strict:
                raise PluginError(f"plugin {ep.name!r} failed to import: {info.error}") from exc
            continue
        plugins.add(loaded, info, strict=strict)

    for index, obj in enumerate(extra):
        name = getattr(obj, "__name__", None) or f"extra-{index}"
        plugins.add(obj, PluginInfo(name=name, module=name), strict=True)
    return plugins


def _wanted(value: str | None) -> set[str] | None:
    if value is None:
        return None
    return {part.strip() for part in value.split(",") if part.strip()}


def _version(dist: str) -> str | None:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


def _origin(info: PluginInfo) -> str:
    return f"plugin {info.name!r}" + (f" ({info.distribution})" if info.distribution else "")


def _describe(exc: BaseException) -> str:
    text = "".join(traceback.format_exception_only(type(exc), exc)).strip()
    return text.splitlines()[-1] if text else type(exc).__name__
