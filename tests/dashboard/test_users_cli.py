"""``hub users`` and the ``secret_key`` setting."""

from __future__ import annotations

from click.testing import CliRunner

from hub.cli import main
from hub.config import DEMO_SECRET_KEY
from hub.testing import business, run_cli, write_config

from .helpers import SECRET_KEY


def two_businesses(hub_dir):
    """Two businesses with the installed plugins only (what the `hub` command loads)."""
    plain = {"sms_sender": {"use": "console"}, "sinks": [{"use": "log"}]}
    return write_config(
        hub_dir,
        {"acme": business(**plain), "bravo": business("Bravo", ["+15125550200"], **plain)},
        secret_key=SECRET_KEY,
    )


def hub(*args: str, stdin: str | None = None):
    return CliRunner().invoke(main, list(args), input=stdin)


def test_users_add_list_set_password_remove(hub_dir):
    config = str(two_businesses(hub_dir))
    added = hub("users", "add", "Owner@Acme.example", "--role", "owner", "-b", "acme",
                "--password-stdin", "--config", config, stdin="a long password\n")  # fmt: skip
    assert added.exit_code == 0, added.output
    assert "added owner@acme.example (owner)" in added.output
    prompted = hub("users", "add", "root@example.com", "--role", "admin", "--config", config,
                   stdin="another password\nanother password\n")  # fmt: skip
    assert prompted.exit_code == 0, prompted.output
    listing = run_cli("users", "list", "--config", config)
    assert "owner@acme.example" in listing.stdout and "acme" in listing.stdout
    assert "root@example.com" in listing.stdout and "every business" in listing.stdout
    assert "password" not in listing.stdout and "$argon2" not in listing.stdout

    twice = hub("users", "add", "owner@acme.example", "--role", "owner", "-b", "acme",
                "--password-stdin", "--config", config, stdin="a long password\n")  # fmt: skip
    assert twice.exit_code == 1 and "already has an account" in twice.output
    short = hub("users", "add", "x@example.com", "--role", "admin", "--password-stdin",
                "--config", config, stdin="short\n")  # fmt: skip
    assert short.exit_code == 1 and "8 to 256 characters" in short.output
    unknown = hub("users", "add", "x@example.com", "--role", "staff", "-b", "nope",
                  "--password-stdin", "--config", config, stdin="a long password\n")  # fmt: skip
    assert unknown.exit_code == 1 and "no business 'nope'" in unknown.output
    nobusiness = hub("users", "add", "x@example.com", "--role", "staff", "--password-stdin",
                     "--config", config, stdin="a long password\n")  # fmt: skip
    assert nobusiness.exit_code == 1 and "at least one --business" in nobusiness.output

    changed = hub("users", "set-password", "owner@acme.example", "--password-stdin",
                  "--config", config, stdin="a new long password\n")  # fmt: skip
    assert changed.exit_code == 0 and "password changed" in changed.output
    assert run_cli("users", "remove", "owner@acme.example", "--config", config).returncode == 0
    gone = run_cli("users", "remove", "owner@acme.example", "--config", config)
    assert gone.returncode == 1 and "no user" in gone.stderr


def test_check_warns_about_the_demo_secret_key(hub_dir):
    config = two_businesses(hub_dir)
    text = config.read_text().replace(SECRET_KEY, DEMO_SECRET_KEY)
    config.write_text(text)
    result = run_cli("check", "--config", str(config))
    assert "secret_key: is the example's demo value" in result.stderr
    assert DEMO_SECRET_KEY not in result.stdout


def test_a_short_secret_key_is_refused(hub_dir):
    config = two_businesses(hub_dir)
    config.write_text(config.read_text().replace(SECRET_KEY, "short"))
    result = run_cli("check", "--config", str(config))
    assert result.returncode == 2 and "secret_key" in result.stderr
