"""Profiles and settings: the TOML file, FLASHBACK_* env, the built-in local profile, saving."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from flashback_tui.settings import (
    LOCAL_PROFILE,
    Profile,
    Settings,
    SettingsError,
    UnknownProfileError,
    delete_profile,
    load_settings,
    save_profile,
    settings_path,
    write_atomically,
)


@pytest.fixture(autouse=True)
def config_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty config dir of our own; no profile chosen by the developer's shell."""
    directory = tmp_path / "config"
    monkeypatch.setenv("FLASHBACK_CONFIG_DIR", str(directory))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    for name in ("FLASHBACK_PROFILE", "FLASHBACK_DEFAULT_PROFILE", "FLASHBACK_PROFILES"):
        monkeypatch.delenv(name, raising=False)
    return directory


def write_settings(config_dir: Path, text: str) -> Path:
    config_dir.mkdir(parents=True, exist_ok=True)
    path = config_dir / "settings.toml"
    path.write_text(text)
    return path


def test_no_file_gives_the_builtin_local_profile(config_dir: Path) -> None:
    settings = load_settings()
    assert settings.default_profile == LOCAL_PROFILE
    profile = settings.get_profile(None)
    assert profile.name == LOCAL_PROFILE and profile.url is None and profile.is_local
    assert profile.refresh_interval == 2.0 and profile.validation_concurrency == 8
    assert not config_dir.exists()  # reading never creates anything


def test_profiles_are_read_from_the_file_named_by_their_key(config_dir: Path) -> None:
    write_settings(config_dir, """
default_profile = "prod"

[profiles.prod]
url = "https://backend.example.com/"
color = "red"
default_workspace = "Ops"
refresh_interval = 10
validation_concurrency = 4
theme = "nord"
keymap = { refresh = "f5", "new" = "ctrl+n" }
email = "ops@example.com"
""")
    settings = load_settings()
    prod = settings.get_profile(None)
    assert prod.name == "prod"
    assert prod.url == "https://backend.example.com"  # trailing slash dropped
    assert (prod.color, prod.default_workspace, prod.theme) == ("red", "Ops", "nord")
    assert prod.refresh_interval == 10.0 and prod.validation_concurrency == 4
    assert prod.keymap == {"refresh": "f5", "new": "ctrl+n"}
    assert LOCAL_PROFILE in settings.profiles  # still there though the file does not list it


def test_profile_choice_order_name_then_env_then_default(
    config_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_settings(config_dir, 'default_profile = "a"\n[profiles.a]\nurl = "https://a.test"\n'
                   '[profiles.b]\nurl = "https://b.test"\n')
    settings = load_settings()
    assert settings.get_profile(None).name == "a"
    monkeypatch.setenv("FLASHBACK_PROFILE", "b")
    assert settings.get_profile(None).name == "b"
    assert settings.get_profile("local").name == "local"


def test_unknown_profile_lists_the_known_ones(config_dir: Path) -> None:
    write_settings(config_dir, '[profiles.work]\nurl = "https://w.test"\n')
    with pytest.raises(UnknownProfileError) as caught:
        load_settings().get_profile("wrok")
    message = str(caught.value)
    assert "'wrok'" in message and "local, work" in message and "login" in message


def test_environment_overrides_the_file(config_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_settings(config_dir, '[profiles.work]\nurl = "https://w.test"\ncolor = "red"\n')
    monkeypatch.setenv("FLASHBACK_DEFAULT_PROFILE", "work")
    monkeypatch.setenv("FLASHBACK_PROFILES__WORK__COLOR", "yellow")
    settings = load_settings()
    assert settings.default_profile == "work"
    assert settings.get_profile(None).color == "yellow"
    assert settings.get_profile(None).url == "https://w.test"


def test_the_file_is_read_at_load_time_not_import_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    other = tmp_path / "elsewhere"
    write_settings(other, '[profiles.late]\nurl = "https://late.test"\n')
    monkeypatch.setenv("FLASHBACK_CONFIG_DIR", str(other))
    assert settings_path() == other / "settings.toml"
    assert "late" in load_settings().profiles


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("default_profile = [", "not valid TOML"),
        ('[profiles.x]\nurl = "ftp://x"\n',
         "profiles.x.url must be an http:// or https:// URL"),
        ('[profiles.x]\nrefresh_interval = 0.01\n', "profiles.x.refresh_interval must be at"),
        ('[profiles.x]\nrefresh_interval = "soon"\n',
         "profiles.x.refresh_interval must be a number"),
        ('[profiles.x]\nvalidation_concurrency = "many"\n',
         "profiles.x.validation_concurrency must be a whole number"),
        ('[profiles.x]\nvalidation_concurrency = 1000\n', "profiles.x.validation_concurrency"),
        ('[profiles.x]\ncolour = "red"\n', "profiles.x.colour is not accepted here"),
        ('[profiles.local]\nurl = "https://l.test"\n', "local"),
        ('[profiles."bad name"]\n', "profiles.bad name.name"),
        ("surprise = 1\n", "surprise"),
    ],
)
def test_a_broken_file_is_a_clear_error_naming_the_file(
    config_dir: Path, text: str, expected: str
) -> None:
    path = write_settings(config_dir, text)
    with pytest.raises(SettingsError) as caught:
        load_settings()
    message = str(caught.value)
    assert str(path) in message and expected in message
    assert "Traceback" not in message
    assert "Input should" not in message and "String should" not in message


def test_error_messages_never_echo_values(config_dir: Path) -> None:
    write_settings(config_dir, '[profiles.x]\nurl = "sk-CANARY-value"\n')
    with pytest.raises(SettingsError) as caught:
        load_settings()
    assert "sk-CANARY-value" not in str(caught.value)


def test_save_profile_creates_the_file_and_loads_back(config_dir: Path) -> None:
    path = save_profile(Profile(name="work", url="https://w.test", color="red",
                                email="me@w.test", insecure_storage=True))
    assert path == config_dir / "settings.toml"
    text = path.read_text()
    assert "[profiles.work]" in text and "name =" not in text  # the key is the name
    assert "refresh_interval" not in text  # defaults are not written
    work = load_settings().get_profile("work")
    assert (work.url, work.color, work.email, work.insecure_storage) == (
        "https://w.test", "red", "me@w.test", True)


def test_save_profile_keeps_the_rest_of_the_file_and_never_writes_env(
    config_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_settings(config_dir, 'default_profile = "a"\n[profiles.a]\nurl = "https://a.test"\n'
                   'theme = "nord"\n')
    monkeypatch.setenv("FLASHBACK_PROFILES__A__COLOR", "yellow")
    save_profile(Profile(name="b", url="https://b.test"))
    text = (config_dir / "settings.toml").read_text()
    assert "yellow" not in text
    monkeypatch.delenv("FLASHBACK_PROFILES__A__COLOR")
    settings = load_settings()
    assert settings.default_profile == "a"
    assert settings.get_profile("a").theme == "nord"
    assert settings.get_profile("b").url == "https://b.test"


def test_save_profile_can_make_it_the_default(config_dir: Path) -> None:
    save_profile(Profile(name="b", url="https://b.test"), make_default=True)
    assert load_settings().get_profile(None).name == "b"


def test_save_refuses_to_touch_a_broken_file(config_dir: Path) -> None:
    path = write_settings(config_dir, "oops = [")
    with pytest.raises(SettingsError):
        save_profile(Profile(name="b", url="https://b.test"))
    assert path.read_text() == "oops = ["  # nothing lost


def test_delete_profile(config_dir: Path) -> None:
    save_profile(Profile(name="b", url="https://b.test"), make_default=True)
    assert delete_profile("b") is True
    assert delete_profile("b") is False
    settings = load_settings()
    assert "b" not in settings.profiles and settings.default_profile == LOCAL_PROFILE


def test_write_atomically_sets_the_mode_and_leaves_no_temporary_files(tmp_path: Path) -> None:
    target = tmp_path / "dir" / "secret.json"
    old_umask = os.umask(0)
    try:
        write_atomically(target, b"one", mode=0o600)
        write_atomically(target, b"two", mode=0o600)
    finally:
        os.umask(old_umask)
    assert target.read_bytes() == b"two"
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert stat.S_IMODE(target.parent.stat().st_mode) == 0o700
    assert [p.name for p in target.parent.iterdir()] == ["secret.json"]


def test_profile_field_docs_and_bounds() -> None:
    for model in (Profile, Settings):
        for name, info in model.model_fields.items():
            assert info.description, f"{model.__name__}.{name} has no docstring"
    with pytest.raises(ValueError, match="refresh_interval"):
        Profile(name="x", refresh_interval=0.1)
    with pytest.raises(ValueError, match="validation_concurrency"):
        Profile(name="x", validation_concurrency=0)
    assert Settings.model_fields["profiles"].description


SAVER = """
import sys
from flashback_tui.settings import Profile, save_profile
for n in range(int(sys.argv[2])):
    save_profile(Profile(name=f"{sys.argv[1]}-{n}", url="https://flashback.test"))
"""


def test_concurrent_saves_from_several_processes_keep_every_profile(config_dir: Path) -> None:
    import subprocess
    import sys

    writers, each = 4, 12
    children = [subprocess.Popen([sys.executable, "-c", SAVER, f"w{i}", str(each)])
                for i in range(writers)]
    assert all(child.wait(60) == 0 for child in children)

    names = set(load_settings().profiles)
    assert {f"w{i}-{n}" for i in range(writers) for n in range(each)} <= names
