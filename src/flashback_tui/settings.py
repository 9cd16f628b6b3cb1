"""Profiles and settings: one TOML file in the config directory, plus ``FLASHBACK_*`` env.

The file is ``settings.toml`` in :func:`flashback_tui.paths.config_dir` (``$FLASHBACK_CONFIG_DIR``
or the platform's user config directory). It is read when :func:`load_settings` runs, never
at import, and written atomically. A built-in ``local`` profile (the embedded platform) is
always present::

    default_profile = "work"

    [profiles.work]
    url = "https://backend.flashback.tech"
    color = "red"            # marks a production profile everywhere on screen
    default_workspace = "Default"

Nothing secret lives here: tokens are kept by :mod:`flashback_tui.credentials`.
"""

from __future__ import annotations

import os
import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from flashback_tui import paths

SETTINGS_FILE_NAME = paths.SETTINGS_FILE_NAME
LOCAL_PROFILE = "local"
#: The environment variable that picks a profile when none is named explicitly.
PROFILE_ENV = "FLASHBACK_PROFILE"

ProfileName = Annotated[
    str,
    Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$"),
]


class SettingsError(Exception):
    """The settings file cannot be read or written, or names something that does not exist."""


class UnknownProfileError(SettingsError):
    """A profile name that is neither built in nor in the settings file."""


def settings_path() -> Path:
    """Where the settings file lives (resolved now, so env changes are honoured)."""
    return paths.settings_file()


class Profile(BaseModel):
    """One backend to talk to, with how to show it and how to behave against it."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True,
                              use_attribute_docstrings=True)

    name: ProfileName
    """The profile's name: the key under ``[profiles]`` and the value of ``--profile``."""

    url: str | None = None
    """Base URL of the platform's API; None means the embedded local platform."""

    default_workspace: str | None = None
    """Workspace (name or id) to open first instead of the workspace picker."""

    refresh_interval: float = Field(default=2.0, ge=0.5, le=3600.0)
    """Seconds between automatic refreshes of lists and live statistics."""

    validation_concurrency: int = Field(default=8, ge=1, le=64)
    """How many configurations are validated at the same time in the background."""

    theme: str | None = None
    """Textual theme name for this profile; None keeps the default theme."""

    keymap: dict[str, str] = Field(default_factory=dict)
    """Key binding overrides: binding id -> comma-separated keys (e.g. ``"refresh": "f5"``)."""

    color: str | None = None
    """A colour (e.g. ``"red"``) that marks a production profile everywhere on screen."""

    email: str | None = None
    """The account last signed in with on this profile (filled in by ``login``)."""

    insecure_storage: bool = False
    """The user agreed to keep this profile's tokens in a plaintext 0600 file."""

    cache: bool = True
    """Keep the last-known list on disk and show it at once on the next start."""

    @field_validator("url")
    @classmethod
    def _check_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        value = value.strip().rstrip("/")
        if not value.startswith(("http://", "https://")) or len(value) <= len("https://"):
            raise ValueError("must be an http:// or https:// URL")
        return value

    @property
    def is_local(self) -> bool:
        """True for the embedded local platform (no URL)."""
        return self.url is None

    @property
    def display_url(self) -> str:
        """The URL, or a short description of the embedded platform."""
        return self.url or "embedded local platform"


def builtin_local_profile() -> Profile:
    """The ``local`` profile that always exists: the embedded platform."""
    return Profile(name=LOCAL_PROFILE, url=None)


class Settings(BaseSettings):
    """Everything read from ``settings.toml`` and ``FLASHBACK_*`` environment variables."""

    model_config = SettingsConfigDict(env_prefix="FLASHBACK_", extra="forbid",
                                      env_nested_delimiter="__", use_attribute_docstrings=True)

    default_profile: ProfileName = LOCAL_PROFILE
    """The profile used when neither ``--profile`` nor ``FLASHBACK_PROFILE`` names one."""

    profiles: dict[str, Profile] = Field(default_factory=dict)
    """Profiles by name; ``local`` (the embedded platform) is always among them."""

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        from pydantic_settings import TomlConfigSettingsSource

        toml = TomlConfigSettingsSource(settings_cls, toml_file=settings_path())
        return (init_settings, env_settings, toml)

    @model_validator(mode="before")
    @classmethod
    def _name_profiles(cls, data: Any) -> Any:
        """Each profile's name is its key; the file need not repeat it."""
        if isinstance(data, dict) and isinstance(data.get("profiles"), dict):
            named = {}
            for key, value in data["profiles"].items():
                if isinstance(value, dict):
                    value = {**value, "name": value.get("name", key)}
                named[key] = value
            data = {**data, "profiles": named}
        return data

    @model_validator(mode="after")
    def _check_profiles(self) -> Settings:
        for key, profile in self.profiles.items():
            if profile.name != key:
                raise ValueError(f"profile [profiles.{key}] has name {profile.name!r}")
        local = self.profiles.get(LOCAL_PROFILE)
        if local is None:
            self.profiles = {LOCAL_PROFILE: builtin_local_profile(), **self.profiles}
        elif local.url is not None:
            raise ValueError("profile 'local' is the embedded platform and cannot have a url; "
                             "put remote platforms under another name")
        return self

    def get_profile(self, name: str | None = None) -> Profile:
        """The profile ``name``, else ``$FLASHBACK_PROFILE``, else ``default_profile``."""
        chosen = name or os.environ.get(PROFILE_ENV) or self.default_profile
        try:
            return self.profiles[chosen]
        except KeyError:
            known = ", ".join(sorted(self.profiles))
            raise UnknownProfileError(
                f"unknown profile {chosen!r}; known profiles: {known}. "
                f"Create one with: flashback-tui login --profile {chosen} --url URL"
            ) from None

    def find_profile_by_url(self, url: str) -> Profile | None:
        """The first profile whose URL is ``url`` (ignoring a trailing slash), if any."""
        wanted = url.strip().rstrip("/")
        for profile in self.profiles.values():
            if profile.url == wanted:
                return profile
        return None


def load_settings() -> Settings:
    """Read the settings file and environment; a broken file raises a readable SettingsError."""
    import tomllib

    path = settings_path()
    try:
        return Settings()
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(f"{path}: not valid TOML: {exc}") from None
    except ValidationError as exc:
        raise SettingsError(f"{path}: {_describe_validation_error(exc)}") from None
    except OSError as exc:
        raise SettingsError(f"{path}: cannot read: {exc.strerror or exc}") from None
    except ValueError as exc:  # e.g. a value pydantic-settings could not parse from the env
        raise SettingsError(f"{path} or FLASHBACK_* environment: {exc}") from None


def _describe_validation_error(exc: ValidationError) -> str:
    """One line per problem, naming the setting (never echoing values: they may be tokens)."""
    from flashback_tui.domain.fields import named_problems

    return "; ".join(named_problems(
        exc, lambda loc: ".".join(str(part) for part in loc) or "file"))


def _read_raw_file(path: Path) -> dict[str, Any]:
    """The file's own contents (no env), so saving never bakes env overrides into it."""
    import tomllib

    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        return {}
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(f"{path}: not valid TOML: {exc}") from None
    except OSError as exc:
        raise SettingsError(f"{path}: cannot read: {exc.strerror or exc}") from None


def _profile_table(profile: Profile) -> dict[str, Any]:
    """A profile as a TOML table: only what differs from the defaults, without its name."""
    return profile.model_dump(exclude={"name"}, exclude_defaults=True, exclude_none=True)


def save_profile(profile: Profile, *, make_default: bool = False) -> Path:
    """Create or replace ``profile`` in the settings file (atomically); returns the file path."""
    path = settings_path()
    with _exclusive_edit(path):
        raw = _read_raw_file(path)
        profiles = raw.setdefault("profiles", {})
        if not isinstance(profiles, dict):
            raise SettingsError(f"{path}: 'profiles' must be a table")
        profiles[profile.name] = _profile_table(profile)
        if make_default:
            raw["default_profile"] = profile.name
        _check_raw(raw, path)
        write_atomically(path, _dump_toml(raw))
    return path


def delete_profile(name: str) -> bool:
    """Remove a profile from the settings file; False when it was not there."""
    path = settings_path()
    with _exclusive_edit(path):
        raw = _read_raw_file(path)
        profiles = raw.get("profiles")
        if not isinstance(profiles, dict) or name not in profiles:
            return False
        del profiles[name]
        if raw.get("default_profile") == name:
            del raw["default_profile"]
        write_atomically(path, _dump_toml(raw))
    return True


#: How long an edit waits for another process's edit of the settings file.
EDIT_LOCK_TIMEOUT = 10.0


@contextmanager
def _exclusive_edit(path: Path) -> Iterator[None]:
    """Hold the settings file's lock for one read-modify-write (two logins at once must not
    lose each other's profile). An advisory ``flock`` on a lock file beside it; where
    ``fcntl`` does not exist (Windows) edits are not serialized."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX
        yield
        return
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    lock_path = path.with_name(f".{path.name}.lock")
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), 0o600)
    try:
        deadline = time.monotonic() + EDIT_LOCK_TIMEOUT
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise SettingsError(f"{path}: another flashback-tui has been editing it "
                                        f"for {EDIT_LOCK_TIMEOUT:g} s; try again") from None
                time.sleep(0.02)
        yield
    finally:
        os.close(fd)  # releases the lock


def _check_raw(raw: dict[str, Any], path: Path) -> None:
    """Refuse to write a file that would not load back."""
    try:
        Settings.model_validate(raw)
    except ValidationError as exc:
        raise SettingsError(f"{path}: {_describe_validation_error(exc)}") from None


def _dump_toml(raw: dict[str, Any]) -> bytes:
    import tomli_w

    return tomli_w.dumps(raw).encode()


def write_atomically(path: Path, data: bytes, *, mode: int = 0o644, dir_mode: int = 0o700) -> None:
    """Write ``data`` to ``path`` via a new file in the same directory and ``os.replace``.

    A reader sees the old file or the new one, never a half-written one. The new file is
    created with ``mode`` from the start (O_CREAT|O_EXCL), so it is never briefly wider.
    """
    path.parent.mkdir(parents=True, exist_ok=True, mode=dir_mode)
    fd, tmp_name = _create_exclusive(path.parent, path.name, mode)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp_name, path)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise


def _create_exclusive(directory: Path, stem: str, mode: int) -> tuple[int, str]:
    """A new, unique, empty file next to the target, opened O_CREAT|O_EXCL with ``mode``."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    for _ in range(100):
        name = str(directory / f".{stem}.{secrets.token_hex(8)}.tmp")
        try:
            fd = os.open(name, flags, mode)
        except FileExistsError:
            continue
        if os.name == "posix":
            os.fchmod(fd, mode)  # the umask may have narrowed it; never widened
        return fd, name
    raise SettingsError(f"{directory}: cannot create a temporary file")


def unknown_settings(profile: Profile, *, themes: set[str], binding_ids: set[str]) -> list[str]:
    """Warnings, each naming a theme or a keymap binding id of ``profile`` that the app does
    not know (the UI passes what it knows; this module never imports it)."""
    problems = []
    where = f"profile {profile.name!r} in {settings_path()}"
    if profile.theme and profile.theme not in themes:
        problems.append(f"Unknown theme {profile.theme!r} ({where}); the default theme is used."
                        f" Known themes: {', '.join(sorted(themes))}.")
    unknown = sorted(set(profile.keymap) - binding_ids)
    if unknown:
        names = ", ".join(repr(name) for name in unknown)
        problems.append(f"Unknown binding id{'s' if len(unknown) > 1 else ''} {names} in the "
                        f"keymap ({where}); ignored. The help (?) lists every binding id.")
    return problems
