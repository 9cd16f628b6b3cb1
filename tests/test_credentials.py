"""The credential chain: environment, OS keyring (in memory, fail, null, hung, broken), file."""

from __future__ import annotations

import os
import stat
import threading
import time
import uuid
from pathlib import Path

import pytest
from keyring.backend import KeyringBackend
from keyring.backends import fail, null
from pydantic import SecretStr

from flashback_tui import credentials
from flashback_tui.credential_types import DEFAULT_KEYRING_TIMEOUT
from flashback_tui.credentials import (
    ENV_SOURCE,
    CredentialError,
    FileStore,
    InsecureFileError,
    KeyringStore,
    KeyringUnavailable,
    NoCredentialError,
    NoSafeStorageError,
    RefreshWriter,
    StoredCredential,
    call_with_timeout,
    find_credential,
    forget_credential,
    save_credential,
)
from flashback_tui.settings import Profile
from tests.support.keyrings import BrokenKeyring, HangingKeyring, MemoryKeyring

URL = "https://platform.example.test"


@pytest.fixture(autouse=True)
def isolated(isolated_config: Path) -> Path:
    return isolated_config


@pytest.fixture
def canary() -> str:
    return f"tok-CANARY-{uuid.uuid4().hex}"


@pytest.fixture
def profile() -> Profile:
    return Profile(name="work", url=URL)


def credential(token: str = "access-1", *, url: str = URL) -> StoredCredential:
    return StoredCredential(SecretStr(token), SecretStr("refresh-1"), 1_900_000_000_000,
                            "me@example.test", url)


# --- the stored document ---------------------------------------------------------------------


def test_a_credential_round_trips_and_never_shows_its_tokens(canary: str) -> None:
    stored = StoredCredential(SecretStr(canary), SecretStr(canary), 5, "a@b.test", URL)
    assert canary not in repr(stored) and canary not in str(stored)
    again = StoredCredential.from_json(stored.to_json(), "test")
    assert again.access_token.get_secret_value() == canary
    assert (again.expires_at, again.email, again.url) == (5, "a@b.test", URL)


@pytest.mark.parametrize("text", ["", "{", "[]", '{"accessToken": ""}', '{"refreshToken": "x"}'])
def test_a_damaged_document_is_a_clear_error(text: str) -> None:
    with pytest.raises(CredentialError, match="damaged; sign in again"):
        StoredCredential.from_json(text, "the keyring")


# --- the environment --------------------------------------------------------------------------


def test_the_environment_token_comes_first(
    monkeypatch: pytest.MonkeyPatch, use_keyring, profile: Profile
) -> None:
    backend = use_keyring(MemoryKeyring())
    KeyringStore().save(profile, credential("from-keyring"))
    monkeypatch.setenv("FLASHBACK_TOKEN", "  from-env \n")
    found = find_credential(profile)
    assert found.resolved is not None
    assert found.resolved.where == ENV_SOURCE and found.resolved.store is None
    assert found.resolved.credential.access_token.get_secret_value() == "from-env"
    assert backend.values  # the keyring is untouched


# --- the OS keyring ----------------------------------------------------------------------------


def test_memory_keyring_save_find_forget(use_keyring, profile: Profile) -> None:
    use_keyring(MemoryKeyring())
    where, notes = save_credential(profile, credential(), insecure_storage=False)
    assert where == "keyring (MemoryKeyring)" and notes == []
    found = find_credential(profile)
    assert found.resolved is not None and found.resolved.where == "keyring (MemoryKeyring)"
    assert found.resolved.credential.refresh_token.get_secret_value() == "refresh-1"
    removed, _ = forget_credential(profile)
    assert removed == ["keyring (MemoryKeyring)"]
    assert find_credential(profile).resolved is None


def test_keyring_entries_are_per_profile(use_keyring) -> None:
    use_keyring(MemoryKeyring())
    a, b = Profile(name="a", url=URL), Profile(name="b", url=URL)
    save_credential(a, credential("token-a"), insecure_storage=False)
    save_credential(b, credential("token-b"), insecure_storage=False)
    assert find_credential(a).resolved.credential.access_token.get_secret_value() == "token-a"
    assert find_credential(b).resolved.credential.access_token.get_secret_value() == "token-b"


@pytest.mark.parametrize("backend_class", [fail.Keyring, null.Keyring])
def test_fail_and_null_backends_are_not_used(use_keyring, profile: Profile,
                                             backend_class: type[KeyringBackend]) -> None:
    use_keyring(backend_class())
    with pytest.raises(KeyringUnavailable, match="no usable OS keyring"):
        KeyringStore().backend()
    found = find_credential(profile)
    assert found.resolved is None
    assert any("no usable OS keyring" in note for note in found.notes)
    with pytest.raises(NoSafeStorageError):
        save_credential(profile, credential(), insecure_storage=False)
    assert not FileStore().path(profile).exists()  # plaintext never written without asking


def test_headless_with_consent_uses_a_private_file(use_keyring, profile: Profile) -> None:
    use_keyring(fail.Keyring())
    where, notes = save_credential(profile, credential(), insecure_storage=True)
    path = FileStore().path(profile)
    assert where == f"file {path} (PLAINTEXT — readable by anyone with access to this account)"
    assert any("no usable OS keyring" in note for note in notes)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    found = find_credential(profile)
    assert found.resolved is not None and found.resolved.where == where


def test_a_hung_keyring_times_out_falls_through_and_says_so(
    use_keyring, profile: Profile
) -> None:
    backend = use_keyring(HangingKeyring())
    FileStore().save(profile, credential("from-file"))
    try:
        started = time.monotonic()
        found = find_credential(profile, keyring_store=KeyringStore(timeout=0.2))
        elapsed = time.monotonic() - started
        assert found.resolved is not None  # fell through to the file
        assert found.resolved.credential.access_token.get_secret_value() == "from-file"
        assert any("did not answer within 0.2 s" in note for note in found.notes)
        assert elapsed < 5
        # Asked once: later calls in this process skip it at once instead of waiting again.
        with pytest.raises(KeyringUnavailable, match="did not answer earlier"):
            KeyringStore(timeout=0.2).load(profile)
        assert backend.calls == 1
    finally:
        backend.release.set()


def test_a_hung_keyring_on_save_falls_back_only_with_consent(
    use_keyring, profile: Profile
) -> None:
    backend = use_keyring(HangingKeyring())
    try:
        with pytest.raises(NoSafeStorageError) as caught:
            save_credential(profile, credential(), insecure_storage=False,
                            keyring_store=KeyringStore(timeout=0.1))
        assert "did not answer within 0.1 s" in str(caught.value)
        assert not FileStore().path(profile).exists()
    finally:
        backend.release.set()


def test_the_default_keyring_timeout_is_five_seconds(monkeypatch: pytest.MonkeyPatch) -> None:
    assert DEFAULT_KEYRING_TIMEOUT == 5.0
    assert KeyringStore().timeout == 5.0
    monkeypatch.setenv("FLASHBACK_KEYRING_TIMEOUT", "0.5")
    assert KeyringStore().timeout == 0.5
    monkeypatch.setenv("FLASHBACK_KEYRING_TIMEOUT", "nonsense")
    assert KeyringStore().timeout == 5.0


def test_call_with_timeout_runs_in_a_daemon_thread() -> None:
    seen: list[threading.Thread] = []
    assert call_with_timeout(lambda: seen.append(threading.current_thread()) or 42, 1) == 42
    assert seen[0].daemon and seen[0] is not threading.current_thread()
    release = threading.Event()
    try:
        with pytest.raises(TimeoutError, match=r"within 0\.05 s"):
            call_with_timeout(lambda: release.wait(30), 0.05, "slow")
    finally:
        release.set()


def test_a_failing_keyring_falls_through_and_says_why(use_keyring, profile: Profile) -> None:
    use_keyring(BrokenKeyring())
    found = find_credential(profile)
    assert found.resolved is None
    assert any("failed: RuntimeError: the collection is locked" in n for n in found.notes)


def test_a_keyring_error_message_never_carries_the_token(
    use_keyring, profile: Profile, canary: str
) -> None:
    class EchoingKeyring(MemoryKeyring):
        def set_password(self, service: str, username: str, password: str) -> None:
            raise RuntimeError(f"cannot store {password!r}")

    use_keyring(EchoingKeyring())
    with pytest.raises(NoSafeStorageError) as caught:
        save_credential(profile, credential(canary), insecure_storage=False)
    assert "cannot store" in str(caught.value) and canary not in str(caught.value)


def test_a_terminal_prompting_backend_is_refused_inside_the_tui(
    use_keyring, profile: Profile
) -> None:
    class EncryptedKeyring(MemoryKeyring):
        """Looks like keyrings.alt's file keyring that asks for a master password."""

    EncryptedKeyring.__module__ = "keyrings.alt.file"
    use_keyring(EncryptedKeyring())
    assert KeyringStore().backend() is not None  # the CLI may prompt
    with pytest.raises(KeyringUnavailable, match="would ask for a password on the terminal"):
        KeyringStore(allow_terminal_prompt=False).backend()


def test_saving_to_the_keyring_removes_an_old_plaintext_file(
    use_keyring, profile: Profile
) -> None:
    FileStore().save(profile, credential("old"))
    use_keyring(MemoryKeyring())
    save_credential(profile, credential("new"), insecure_storage=True)
    assert not FileStore().path(profile).exists()


def test_a_credential_for_another_url_is_never_sent(use_keyring) -> None:
    use_keyring(MemoryKeyring())
    save_credential(Profile(name="work", url=URL), credential(), insecure_storage=False)
    moved = Profile(name="work", url="https://elsewhere.test")
    found = find_credential(moved)
    assert found.resolved is None
    assert any("not https://elsewhere.test" in note for note in found.notes)


# --- the plaintext file ------------------------------------------------------------------------


def test_the_file_is_written_atomically_with_private_modes(
    use_keyring, profile: Profile
) -> None:
    store = FileStore()
    old_umask = os.umask(0)  # even a careless umask must not widen the modes
    try:
        store.save(profile, credential("one"))
        store.save(profile, credential("two"))
    finally:
        os.umask(old_umask)
    path = store.path(profile)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert [p.name for p in path.parent.iterdir()] == ["work.json"]
    assert store.load(profile).access_token.get_secret_value() == "two"


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o660])
def test_a_file_others_can_read_is_refused(profile: Profile, mode: int) -> None:
    store = FileStore()
    store.save(profile, credential())
    path = store.path(profile)
    path.chmod(mode)
    with pytest.raises(InsecureFileError) as caught:
        store.load(profile)
    message = str(caught.value)
    assert str(path) in message and f"chmod 600 {path}" in message
    found = find_credential(profile)
    assert found.resolved is None  # refused, not used
    assert any("chmod 600" in note for note in found.notes)


def test_a_directory_others_can_enter_is_refused(profile: Profile) -> None:
    store = FileStore()
    store.save(profile, credential())
    store.directory.chmod(0o755)
    with pytest.raises(InsecureFileError, match="chmod 700"):
        store.load(profile)
    with pytest.raises(InsecureFileError, match="chmod 700"):
        store.save(profile, credential())


def test_a_symlinked_credentials_file_is_refused(profile: Profile, tmp_path: Path) -> None:
    store = FileStore()
    store.save(profile, credential())
    target = tmp_path / "elsewhere.json"
    target.write_text(credential().to_json())
    target.chmod(0o600)
    store.path(profile).unlink()
    store.path(profile).symlink_to(target)
    with pytest.raises(CredentialError):
        store.load(profile)


# --- errors and refresh write-back ---------------------------------------------------------------


def test_no_credential_error_says_how_to_sign_in(profile: Profile) -> None:
    error = NoCredentialError(profile, ["no usable OS keyring (backend: fail.Keyring)"])
    text = str(error)
    assert f"flashback-tui login --profile work --url {URL}" in text
    assert "fail.Keyring" in text and "FLASHBACK_TOKEN" in text


def test_refreshed_tokens_go_back_to_the_store_they_came_from(
    use_keyring, profile: Profile
) -> None:
    from flashback_tui.api.client import Tokens

    use_keyring(MemoryKeyring())
    save_credential(profile, credential("old"), insecure_storage=False)
    resolved = find_credential(profile).resolved
    writer = RefreshWriter(profile, resolved)
    writer(Tokens(SecretStr("new-access"), SecretStr("new-refresh"), 2_000_000_000_000))
    writer.wait(5)
    stored = KeyringStore().load(profile)
    assert stored.access_token.get_secret_value() == "new-access"
    assert stored.refresh_token.get_secret_value() == "new-refresh"
    assert stored.expires_at == 2_000_000_000_000 and stored.email == "me@example.test"
    assert writer.errors == []


def test_refreshed_environment_tokens_stay_in_memory(
    monkeypatch: pytest.MonkeyPatch, profile: Profile
) -> None:
    from flashback_tui.api.client import Tokens

    monkeypatch.setenv("FLASHBACK_TOKEN", "env-token")
    resolved = find_credential(profile).resolved
    writer = RefreshWriter(profile, resolved)
    writer(Tokens(SecretStr("a"), SecretStr("r"), 1))
    writer.wait(1)
    assert resolved.credential.access_token.get_secret_value() == "a"
    assert not credentials.FileStore().path(profile).exists()


def test_brief_sources_for_the_header(profile: Profile) -> None:
    from flashback_tui.credentials import EMBEDDED_SOURCE, MEMORY_SOURCE, brief_source

    assert brief_source(FileStore().where(profile)) == "plaintext file"
    assert brief_source("keyring (SecretService.Keyring)") == "keyring"
    assert brief_source(ENV_SOURCE) == "FLASHBACK_TOKEN"
    assert brief_source(MEMORY_SOURCE) == "memory only"
    assert brief_source(EMBEDDED_SOURCE) == "local admin"
