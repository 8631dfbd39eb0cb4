"""Redaction (fixes/redact.py): what is masked, what is left alone, and how placeholders are
given their values back in the model's answer."""

from __future__ import annotations

import json

import pytest

from megawatt.fixes.redact import MASK, Redactor, Unrestorable, is_secret_name, redact


def masked(text: str, **kwargs: object) -> str:
    return Redactor(environ={}, **kwargs).redact(text)  # type: ignore[arg-type]


# --- what is masked ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "secret"),
    [
        ('password = "hunter22"', "hunter22"),
        ('password: str = "hunter22"', "hunter22"),
        ('DB_PASSWORD: Final[str] = "hunter22"', "hunter22"),
        ('AWS_SECRET_ACCESS_KEY = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"', "wJalrXUtnFEMI"),
        ('config = {"api_key": "abcd1234efgh"}', "abcd1234efgh"),
        ("config = {'apiKey': 'abcd1234efgh'}", "abcd1234efgh"),
        ('headers = {"X-Api-Key": "abcd1234efgh"}', "abcd1234efgh"),
        ('client = Client(auth_token="abcd1234efgh")', "abcd1234efgh"),
        ('if password == "letmein1":', "letmein1"),
        ('os.environ["GITHUB_TOKEN"] = "not-a-known-shape"', "not-a-known-shape"),
        ('cmd = "AWS_SECRET_ACCESS_KEY=abc123def456 aws s3 ls"', "abc123def456"),
        ('url = "https://api.example.com/v1?user=me&token=abcdef123456"', "abcdef123456"),
        ('url = "https://api.example.com/v1?token=abcdefghij"', "abcdefghij"),
        ("export STRIPE_SECRET=whsec_live_value", "whsec_live_value"),
        ("password=letmein", "letmein"),
        ('login(user, password="x9" + suffix, api_key=k1b2c3d4e5f6)', "k1b2c3d4e5f6"),
        ('db = "postgres://app:hunter22@db.internal/app"', "hunter22"),
        ('headers["Authorization"] = "Bearer abcdefghijklmnop1234"', "abcdefghijklmnop1234"),
    ],
)
def test_named_secrets_are_masked(line: str, secret: str) -> None:
    out = masked(line)
    assert secret not in out and MASK in out, out


@pytest.mark.parametrize(
    "token",
    [
        "sk-ant-api03-abcdefghijklmnopqrstuvwxyz",
        "sk-proj-abcdefghijklmnopqrstuvwxyz012345",
        "AKIAIOSFODNN7EXAMPLE",
        "ghp_abcdefghijklmnopqrstuvwxyz0123456789",
        "github_pat_11ABCDEFG0123456789_abcdefghijklmnop",
        "glpat-abcdefghij0123456789",
        "xoxb-123456789012-abcdefghijkl",
        "AIzaSyA-abcdefghijklmnopqrstuvwxyz01234",
        "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
    ],
)
def test_known_token_shapes_are_masked_whatever_they_are_called(token: str) -> None:
    out = masked(f"values = [{token!r}]  # {token}")
    assert token not in out and out.count(MASK) == 2


def test_a_private_key_block_is_masked_whole() -> None:
    block = (
        "-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA\nabcdef\n-----END RSA PRIVATE KEY-----"
    )
    assert masked(f'KEY = """{block}"""') == f'KEY = """{MASK}"""'


def test_escaped_quotes_are_still_quotes() -> None:
    # the shape source takes once it is JSON-encoded, or inside another string literal
    assert masked('password = \\"hunter22\\"') == 'password = \\"[REDACTED]\\"'
    assert "hunter22" not in masked(json.dumps({"text": 'password = "hunter22"'}))


def test_structured_values_are_redacted_before_they_are_encoded() -> None:
    output = {
        "source": 'def f():\n    password = "hunter22"\n    return password\n',
        "matches": [{"line": 3, "text": 'SYNC = "AWS_SECRET_ACCESS_KEY=abc123def456 aws s3"'}],
        "count": 2,
    }
    redactor = Redactor(environ={})
    encoded = json.dumps(redactor.redact_value(output))
    assert "hunter22" not in encoded and "abc123def456" not in encoded
    assert json.loads(encoded)["count"] == 2  # non-strings pass through
    assert redactor.secrets == 2


# --- what is left alone -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "line",
    [
        'tokenizer = "bert-base-uncased"',
        'author = "Jane Doe"',
        "token = get_token()",
        "f(token=tok)",
        "f(token=self.token)",
        "password = os.environ['DB_PASSWORD']",
        "if not password:",
        "def f(token: str) -> None:",
        'max_tokens = 4096  # "tokens" in a comment',
        'keyword = "value-of-a-keyword"',
        'cwd = "/work/proj"',
    ],
)
def test_ordinary_code_is_left_alone(line: str) -> None:
    assert masked(line) == line


@pytest.mark.parametrize(
    ("name", "secret"),
    [
        ("ANTHROPIC_API_KEY", True),
        ("AWS_SECRET_ACCESS_KEY", True),
        ("GITHUB_TOKEN", True),
        ("DB_PASSWORD", True),
        ("PGPASSWORD", True),
        ("MYSQL_ROOT_PASSWD", True),
        ("PASSWD", True),
        ("GOOGLE_APPLICATION_CREDENTIALS", True),
        ("HTTP_AUTH", True),
        ("apiKey", True),
        ("x-api-key", True),
        ("OAuthToken", True),
        ("PRIVATE_KEY", True),
        ("PWD", False),
        ("OLDPWD", False),
        ("PATH", False),
        ("PYTHONPATH", False),
        ("AUTHOR", False),
        ("TOKENIZERS_PARALLELISM", False),
        ("KEYBOARD_LAYOUT", False),
        ("MONKEY_PATCH", False),
    ],
)
def test_secret_names_are_matched_on_whole_parts(name: str, secret: bool) -> None:
    assert is_secret_name(name) is secret


def test_environment_values_count_only_for_secret_names_and_never_paths() -> None:
    environ = {
        "PWD": "/work/proj/src",
        "OLDPWD": "/work/proj",
        "PATH": "/usr/local/bin:/usr/bin",
        "SSH_AUTH_SOCK": "/tmp/ssh-XXXX/agent.42",
        "MY_SERVICE_API_KEY": "live-0123456789abcdef",
        "SHORT_TOKEN": "abc",
    }
    text = (
        "workspace /work/proj/src (was /work/proj), socket /tmp/ssh-XXXX/agent.42, "
        "key live-0123456789abcdef, abc"
    )
    out = Redactor(environ=environ).redact(text)
    assert out == (
        "workspace /work/proj/src (was /work/proj), socket /tmp/ssh-XXXX/agent.42, "
        "key [REDACTED], abc"
    )


# --- placeholders and restoring ---------------------------------------------------------------


def test_each_secret_gets_its_own_placeholder_and_the_same_one_each_time() -> None:
    redactor = Redactor(environ={})
    first = redactor.redact('password = "hunter22"\ntoken = "abcdef123456"')
    again = redactor.redact('check(password="hunter22")')
    assert first == 'password = "[REDACTED]"\ntoken = "[REDACTED-2]"'
    assert again == 'check(password="[REDACTED]")'
    assert redactor.secrets == 2 and redactor.count == 3


def test_redacting_twice_changes_nothing() -> None:
    redactor = Redactor(environ={})
    once = redactor.redact('password = "hunter22"\nurl = "https://x/?token=abcdef123456"')
    assert redactor.redact(once) == once
    assert redactor.redact(json.dumps(once)) == json.dumps(once)
    assert redactor.secrets == 2


def test_restore_gives_the_answer_the_original_values() -> None:
    redactor = Redactor(environ={})
    redactor.redact('password = "hunter22"\ncmd = "AWS_SECRET_ACCESS_KEY=abc123def456 aws"')
    answer = 'def f():\n    return login("[REDACTED]", env="AWS_SECRET_ACCESS_KEY=[REDACTED-2]")\n'
    assert redactor.restore(answer) == (
        'def f():\n    return login("hunter22", env="AWS_SECRET_ACCESS_KEY=abc123def456")\n'
    )


@pytest.mark.parametrize(
    "answer",
    ['x = "[REDACTED-7]"', 'x = "[REDACTED-1"', 'x = "REDACTED"', 'x = "[redacted]"'],
    ids=["unknown", "truncated", "bare", "lowercase"],
)
def test_a_placeholder_that_cannot_be_restored_is_refused(answer: str) -> None:
    redactor = Redactor(environ={})
    redactor.redact('password = "hunter22"')
    with pytest.raises(Unrestorable, match="cannot be put back"):
        redactor.restore(answer)


def test_the_projects_own_placeholder_text_is_never_handed_out_or_restored() -> None:
    # a log sanitiser that writes "[REDACTED]" itself: that text is the project's, not a mask
    source = 'def scrub(line):\n    return PATTERN.sub("[REDACTED]", line)\n'
    redactor = Redactor(environ={}, known=[source])
    assert redactor.redact('password = "hunter22"') == 'password = "[REDACTED-2]"'
    assert redactor.restore(source) == source
    assert redactor.restore('f("[REDACTED-2]")') == 'f("hunter22")'


def test_the_module_functions_keep_one_plain_mask() -> None:
    text, count = redact('password = "hunter22"\ntoken = "abcdef123456"')
    assert text == 'password = "[REDACTED]"\ntoken = "[REDACTED]"' and count == 2
    assert redact('token = "abcdef123456"')[0] == 'token = "[REDACTED]"'
