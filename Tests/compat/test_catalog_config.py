"""config.yml and the catalog sign-in files, byte for byte against quilt3 8.0.0 (notes: quilt3-login.md).

- `quilt config URL` writes the same config.yml bytes as `quilt3.config(URL)` for the same catalog, keeps a backup
  the same way, and drops the same keys;
- every value we write reads back the same in PyYAML, and the file is exactly `yaml.dump` of what it holds; every
  value quilt3 writes, we read as written (YAML 1.1 booleans, dates and numbers as PyYAML types them);
- setting a key changes the file exactly as `quilt3.config(key=value)` does;
- `quilt login` writes auth.json and credentials.json in quilt3's format, and quilt3's session uses them (and the
  other way round); `quilt logout` leaves what quilt3's logout leaves.

quilt3 runs in subprocesses so that each test has its own data directory (quilt3 fixes its paths at import).
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import REPO, run

STUB = REPO / "scripts" / "stub_catalog.py"


def env_for(home: Path) -> dict:
    env = dict(os.environ)
    env.update(
        HOME=str(home),
        XDG_DATA_HOME=str(home / "data"),
        XDG_CACHE_HOME=str(home / "cache"),
        XDG_CONFIG_HOME=str(home / "config"),
        QUILT_DISABLE_USAGE_METRICS="true",
        # Only 127.0.0.1: STS (quilt whoami) goes to the test S3 endpoint, or to a port where nothing listens.
        AWS_ENDPOINT_URL=os.environ.get("QUILT_TEST_S3_ENDPOINT") or "http://127.0.0.1:9",
        AWS_EC2_METADATA_DISABLED="true",
    )
    return env


def quilt3_py(home: Path, code: str, *args: str, stdin: bytes = b"") -> subprocess.CompletedProcess:
    # setsid: no controlling terminal, so quilt3's getpass reads standard input.
    p = subprocess.run(["setsid", "-w", sys.executable, "-c", code, *args], input=stdin, capture_output=True,
                       env=env_for(home), timeout=120)
    assert p.returncode == 0, p.stderr.decode()
    return p


def quilt(home: Path, *args, stdin: bytes | str | None = None, ok: bool = True):
    rc, out, err = run("quilt", *args, env=env_for(home), input=stdin)
    if ok:
        assert rc == 0, f"quilt {' '.join(args)}: {err}"
    return rc, out, err


def config_bytes(home: Path) -> bytes:
    return (home / "data" / "Quilt" / "config.yml").read_bytes()


@pytest.fixture
def stub(tmp_path):
    """A stub catalog on a free port: yields its URL. Extra options through request.param."""
    procs = []

    def start(*options):
        port_file = tmp_path / f"stub{len(procs)}.port"
        p = subprocess.Popen([sys.executable, str(STUB), "--port", "0", "--port-file", str(port_file), *options],
                             stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        procs.append(p)
        for _ in range(300):
            if port_file.exists() and port_file.read_text():
                return f"http://127.0.0.1:{port_file.read_text()}"
            time.sleep(0.05)
        raise RuntimeError("stub catalog did not start")

    yield start
    for p in procs:
        p.kill()
        p.wait()


# --- quilt config URL ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("options", [(), ("--navigator-url", " https://nav.example.com// ")], ids=["plain", "navigator"])
def test_config_url_writes_quilt3s_bytes(stub, tmp_path, options):
    url = stub(*options)
    ours, theirs = tmp_path / "ours", tmp_path / "theirs"
    for home in (ours, theirs):
        (home / "data" / "Quilt").mkdir(parents=True)
        # A key the catalog does not give, and one of ours: both dropped, as quilt3 drops every other key.
        (home / "data" / "Quilt" / "config.yml").write_text("default_remote_registry: s3://mine\nrequests_timeout: 5\n")
    quilt(ours, "config", url + "/")
    quilt3_py(theirs, "import quilt3, sys; quilt3.config(sys.argv[1])", url + "/")
    mine = config_bytes(ours).replace(str(ours).encode(), b"HOME")
    reference = config_bytes(theirs).replace(str(theirs).encode(), b"HOME")
    assert mine == reference
    for home in (ours, theirs):
        backups = sorted(p.name for p in (home / "data" / "Quilt").iterdir() if p.name.startswith("config.yml.backup."))
        assert len(backups) == 1, backups
        assert (home / "data" / "Quilt" / backups[0]).read_text().startswith("default_remote_registry: s3://mine")


def test_config_url_errors(stub, tmp_path):
    url = stub()
    rc, _, err = quilt(tmp_path, "config", url + "/nothing-here", ok=False)
    assert rc == 1 and err.startswith("error: the catalog answered HTTP 404 for '" + url + "/nothing-here/config.json'")
    rc, _, err = quilt(tmp_path, "config", "https://", ok=False)
    assert rc == 64 and "invalid catalog URL" in err
    assert not (tmp_path / "data" / "Quilt" / "config.yml").exists()


# --- PyYAML both ways ----------------------------------------------------------------------------------------------

# Strings that YAML 1.1 (PyYAML) reads as something else when plain, and strings that need quoting for other reasons.
LOOKALIKES = [
    "yes", "Yes", "YES", "no", "No", "on", "On", "off", "OFF", "true", "False", "y", "n", "Y", "N",
    "null", "Null", "~", "2001-12-14", "2001-12-14t21:59:43.10-05:00", "2001-12-14 21:59:43.10 -5",
    "1.5", "-1.5", ".5", "1e3", "1.0e+3", ".inf", "-.Inf", ".NaN", "0o17", "0x1F", "0b101", "017", "1_000", "1:20",
    "190:20:30.15", "=", "<<", "", " ", "a: b", "a:b", "#c", "a #c", "- a", "-a", "?", "? a", ":", ":a", "@a", "`a",
    "%a", "!a", "*a", "&a", "|", ">", "[a]", "{a: 1}", "a, b", "'q'", '"q"', "it's", " lead", "trail ", "tab\there",
    "two\nlines", "end\n", "é", "日本", "emoji \U0001F600", "\u00a0nbsp", "x" * 100, "word " * 30,
    "https://catalog.example.com/", "s3://bucket/prefix", "C:\\path",
]


@pytest.mark.parametrize("value", LOOKALIKES, ids=range(len(LOOKALIKES)))
def test_our_strings_read_back_in_pyyaml_and_match_yaml_dump(tmp_path, value):
    import yaml

    # `quilt config KEY VALUE` reads null/true/false/integers as YAML does; anything else is a string.
    quilt(tmp_path, "config", "region", "--", value) if value.startswith("-") else quilt(tmp_path, "config", "region", value)
    text = config_bytes(tmp_path).decode()
    data = yaml.safe_load(text)
    expected = {"": None, "null": None, "Null": None, "~": None, "true": True, "False": False, "017": 17}.get(value, value)
    assert data["region"] == expected, text
    assert yaml.dump(data) == text


QUILT3_VALUES = [True, False, None, 0, 42, -7, 10**20, 1.5, 1e20, "yes", "on", "2001-12-14", "1.5", "0o17", "",
                 "é", "two\nlines", ["a", 1], {"k": "v", "n": None}]


@pytest.mark.parametrize("value", QUILT3_VALUES, ids=range(len(QUILT3_VALUES)))
def test_quilt3_values_are_read_as_written(tmp_path, value):
    quilt3_py(tmp_path, "import json, quilt3, sys; quilt3.config(region=json.loads(sys.argv[1]))", json.dumps(value))
    _, out, _ = quilt(tmp_path, "config", "--json")
    assert json.loads(out)["region"] == value
    # Setting another key writes back every value as quilt3's config(key=value) would.
    reference = tmp_path / "reference"
    (reference / "data" / "Quilt").mkdir(parents=True)
    (reference / "data" / "Quilt" / "config.yml").write_bytes(config_bytes(tmp_path).replace(
        str(tmp_path).encode(), str(reference).encode()))
    quilt(tmp_path, "config", "default_install_location", "/tmp/x")
    quilt3_py(reference, "import quilt3; quilt3.config(default_install_location='/tmp/x')")
    assert config_bytes(tmp_path).replace(str(tmp_path).encode(), b"HOME") == \
        config_bytes(reference).replace(str(reference).encode(), b"HOME")


def test_quilt3_written_date_and_unknown_keys(tmp_path):
    quilt3_py(tmp_path, "import datetime, quilt3; quilt3.config(release=datetime.date(2024, 5, 1), custom_key='x')")
    _, out, _ = quilt(tmp_path, "config", "release")
    assert out == b"2024-05-01\n"
    _, out, _ = quilt(tmp_path, "config", "custom_key")
    assert out == b"x\n"
    quilt(tmp_path, "config", "custom_key", "yes")
    p = quilt3_py(tmp_path, "import quilt3; c = quilt3.config(); print(repr(c['custom_key']), repr(c['release']))")
    assert p.stdout == b"'yes' datetime.date(2024, 5, 1)\n"


# --- sign-in files -------------------------------------------------------------------------------------------------


def test_login_files_are_quilt3s_and_serve_quilt3(stub, tmp_path):
    url = stub()
    quilt(tmp_path, "config", url)
    quilt(tmp_path, "login", stdin="stub-code-compat\n")
    base = tmp_path / "data" / "Quilt"
    for name in ("auth.json", "credentials.json"):
        raw = (base / name).read_bytes()
        assert stat.S_IMODE((base / name).stat().st_mode) == 0o600
        # Python's json.dump with no options, no final newline.
        assert raw == json.dumps(json.loads(raw)).encode()
    auth = json.loads((base / "auth.json").read_bytes())
    assert list(auth) == [url] and list(auth[url]) == ["refresh_token", "access_token", "expires_at"]
    assert isinstance(auth[url]["expires_at"], int)
    creds = json.loads((base / "credentials.json").read_bytes())
    assert list(creds) == ["access_key", "secret_key", "token", "expiry_time"]
    # quilt3 sees the sign-in and signs with those credentials (method quilt-registry), whatever the environment.
    p = quilt3_py(tmp_path, """
import os, quilt3.session as s
os.environ['AWS_ACCESS_KEY_ID'] = 'ENVKEY'; os.environ['AWS_SECRET_ACCESS_KEY'] = 'x'
print(s.logged_in())
c = s.get_boto3_session().get_credentials()
print(c.method, c.get_frozen_credentials().access_key)
""")
    assert p.stdout.decode().split("\n")[:2] == [url, "quilt-registry " + creds["access_key"]]


def test_quilt3_login_files_serve_us_and_logout_matches(stub, tmp_path):
    url = stub()
    quilt3_py(tmp_path, "import quilt3, sys; quilt3.config(sys.argv[1])", url)
    quilt3_py(tmp_path, "import quilt3; quilt3.login()", stdin=b"stub-code-quilt3\n")
    rc, out, err = quilt(tmp_path, "whoami", "--json", ok=False)
    report = json.loads(out)
    assert report["credentials"]["source"] == "catalog", report
    assert url in report["credentials"]["description"]
    # Our logout leaves exactly what quilt3's leaves: {} in both files, mode 0600.
    quilt(tmp_path, "logout")
    base = tmp_path / "data" / "Quilt"
    for name in ("auth.json", "credentials.json"):
        assert (base / name).read_bytes() == b"{}"
        assert stat.S_IMODE((base / name).stat().st_mode) == 0o600
    p = quilt3_py(tmp_path, "import quilt3.session as s; print(s.logged_in()); s.logout()")
    assert p.stdout == b"None\nAlready logged out.\n"
