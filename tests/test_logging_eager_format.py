"""logging-eager-format: logger resolution, its traps, and a rewrite proven equivalent by logging.

Every rewrite case is run twice, original and fixed, through a real logger with a StreamHandler
on a StringIO at DEBUG, and the two outputs must be identical.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from megawatt.analyzers.context import FileContext
from megawatt.analyzers.engine import analyze_context
from tests.detectors import findings, fixed, lines, run

SKILL = "logging-eager-format"


def test_finds_each_eager_style_on_proven_loggers() -> None:
    src = """
    import logging
    import logging as lg
    from logging import getLogger

    log = logging.getLogger(__name__)
    other = getLogger("other")
    adapter = logging.LoggerAdapter(log, {"job": 1})

    class Worker:
        def __init__(self):
            self.logger = lg.getLogger("worker")

        def run(self, item):
            self.logger.debug(f"item {item}")                  # 15: self attribute

    def handle(order, total, logger: logging.Logger):
        log.info(f"order {order.id}: {total:.2f}")            # 18: f-string
        log.debug("order %s" % order.id)                       # 19: % formatting
        other.debug("order {}".format(order.id))               # 20: str.format
        adapter.info("order " + str(order.id))                 # 21: + concatenation
        logger.warning(f"late {order.id}")                     # 22: annotated parameter
        logging.info(f"module {order.id}")                     # 23: the logging module
        log.log(logging.DEBUG, f"lvl {order.id}")              # 24: .log(level, msg)
        logging.getLogger("x").debug(f"inline {order.id}")     # 25: getLogger() inline
    """
    found = findings(src, SKILL)
    assert [f.span.line for f in found] == [15, 18, 19, 20, 21, 22, 23, 24, 25]
    by_line = {f.span.line: f for f in found}
    assert by_line[18].function == "handle"
    assert dict(by_line[19].evidence)["style"] == "%"
    assert dict(by_line[20].evidence)["style"] == "format"
    assert dict(by_line[21].evidence)["style"] == "+"
    # DEBUG is usually off: the whole string is waste; WARNING is usually emitted anyway
    assert by_line[19].confidence > by_line[18].confidence > by_line[22].confidence
    assert 'log.info("order %s: %.2f", order.id, total)' in by_line[18].message


def test_names_that_only_sound_like_loggers_are_not_loggers() -> None:
    src = """
    import math
    import logging
    from math import log as ln

    log = []                      # a list called log
    logger = math.log             # a function called logger

    class AuditTrail:
        def info(self, msg): ...

    audit = AuditTrail()
    mylog = logging.getLogger("x")
    mylog = AuditTrail()          # rebound: no longer provably a logger

    def a(x):
        log.append(f"{x}")
        audit.info(f"{x}")
        mylog.info(f"{x}")

    def b(x, logger):             # unannotated parameter: unknown object
        logger.info(f"{x}")

    def c(x):
        logger = AuditTrail()
        logger.info(f"{x}")

    def d(xs):
        for log in xs:            # a loop variable
            log.info(f"{x}")

    def e(loggers, x):
        return [lg.info(f"{x}") for lg in loggers]

    def f(x):
        import warnings
        warnings.warn(f"{x}")
        print(f"{x}")

    def g(log, x):
        log.debug(f"{x}")         # a parameter shadows the module-level name
    """
    assert lines(src, SKILL) == []


def test_lazy_guarded_and_indirect_messages_are_left_alone() -> None:
    src = """
    import logging
    log = logging.getLogger(__name__)

    def f(x, msg):
        log.debug("value %s", x)                       # already lazy
        log.debug(f"constant")                         # an f-string with no field
        log.info(msg)                                  # a name: may be used elsewhere too
        if log.isEnabledFor(logging.DEBUG):
            log.debug(f"value {x}")                    # built only when it is wanted
        log.info(_("translated %s") % x if x else "")  # a conditional, not a literal %
        log.info(1 + x)                                # arithmetic, not concatenation
        log.info("a %s" + ("" if x else " b"), x)      # a template assembled from literals
    """
    assert lines(src, SKILL) == []


def test_logger_imported_from_a_sibling_module(tmp_path: Path) -> None:
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "log.py").write_text("import logging\nlogger = logging.getLogger('pkg')\n")
    (pkg / "notlog.py").write_text("class T:\n    def info(self, m): ...\nlogger = T()\n")
    (pkg / "_base.py").write_text("import logging\nLOGGER = logging.getLogger('b')\n")
    user = pkg / "user.py"
    user.write_text(
        textwrap.dedent(
            """
            from .log import logger
            from .notlog import logger as fake
            from pkg import _base

            def f(x):
                logger.debug(f"x={x}")
                fake.debug(f"x={x}")
                _base.LOGGER.debug(f"x={x}")
            """
        )
    )
    ctx = FileContext(str(user), user.read_bytes())
    result = analyze_context(ctx, select={SKILL})
    assert [f.span.line for f in result.findings] == [7, 9]


def test_suppression_and_half_typed_file() -> None:
    src = """
    import logging
    log = logging.getLogger(__name__)

    def f(x):
        log.debug(f"{x}")  # megawatt: ignore[logging-eager-format]

    def g(x):  # megawatt: ignore
        log.debug(f"{x}")

    def h(x):
        log.debug(f"{x}")

    def broken(:
        log.debug(f"{x
    """
    assert lines(src, SKILL) == [12]


# -- the rewrite --------------------------------------------------------------------------------

HARNESS = """
import io
import logging

stream = io.StringIO()
log = logging.getLogger("megawatt-eq")
log.handlers.clear()
handler = logging.StreamHandler(stream)
handler.setFormatter(logging.Formatter("%(levelname)s|%(message)s"))
log.addHandler(handler)
log.setLevel(logging.DEBUG)
log.propagate = False


class Point:
    def __init__(self, x, y):
        self.x, self.y = x, y

    def __repr__(self):
        return f"Point({self.x!r}, {self.y!r})"

    def __str__(self):
        return f"<{self.x}, {self.y}>"


def emit(x, y, s, d, p, n):
    try:
        raise ValueError("boom")
    except ValueError:
        CALL
    return stream.getvalue()
"""

VALUES = [
    "emit(3, 2.5, 'abc', {'k': 1}, Point(1, 2), -7)",
    "emit(-12, 1e-7, 'é ü 中文 \\u2603', {'k': 'v'}, Point('a', None), 0)",
    "emit(10**20, float('inf'), '', {}, Point(0, 0), 255)",
]

# (the call, the exact rewritten call, whether the fix is safe)
SAFE_CASES = [
    ('log.info(f"a {x} b {y!r}")', 'log.info("a %s b %r", x, y)'),
    ('log.info(f"{s!s} {s!a} {p}")', 'log.info("%s %a %s", s, s, p)'),
    ('log.info(f"100% done: {x}%")', 'log.info("100%% done: %s%%", x)'),
    ('log.info(f"{{literal}} {{{x}}} }}")', 'log.info("{literal} {%s} }", x)'),
    ('log.info(f"é {s} → ✓ 中文")', 'log.info("é %s → ✓ 中文", s)'),
    ('log.info(f"{d}")', 'log.info("%s", d)'),
    ("log.info(f\"{d!r} and {d.get('k')}\")", "log.info(\"%r and %s\", d, d.get('k'))"),
    ('log.info(f"{x=} {s = }")', 'log.info("x=%r s = %r", x, s)'),
    ('log.info(f"{x, y}")', 'log.info("%s", (x, y))'),
    ('log.info(f"{repr(s)} {str(p):>10} {repr(s)!r}")', 'log.info("%r %10s %r", s, p, repr(s))'),
    ('log.info(f"{x if x else n}")', 'log.info("%s", x if x else n)'),
    ('log.info(f"{p!r:>20}|{s!s:<6}|{s!r:.3}")', 'log.info("%20r|%-6s|%.3r", p, s, s)'),
    ("log.info(f'single {s} \"quoted\"')", "log.info('single %s \"quoted\"', s)"),
    ('log.info(rf"\\d+ {x} \\w")', 'log.info(r"\\d+ %s \\w", x)'),
    ('log.info(f"tab\\t{x}\\n")', 'log.info("tab\\t%s\\n", x)'),
    ('log.error(f"failed {x}", exc_info=True)', 'log.error("failed %s", x, exc_info=True)'),
    (
        'log.log(logging.INFO, f"lvl {x}", stacklevel=1)',
        'log.log(logging.INFO, "lvl %s", x, stacklevel=1)',
    ),
    ('log.info("a %s b %r" % (x, y))', 'log.info("a %s b %r", x, y)'),
    ('log.info("%(k)s!" % {"k": s})', 'log.info("%(k)s!", {"k": s})'),
    ('log.info("50%% of %d" % (n,))', 'log.info("50%% of %d", n)'),
    ('log.info("neg %d" % -n)', 'log.info("neg %d", -n)'),
    ('log.info("len %d" % len(s))', 'log.info("len %d", len(s))'),
    ('log.info("{} and {k!r} {0}".format(x, k=s))', None),  # mixed numbering: left alone
    ('log.info("{} and {k!r}".format(x, k=s))', 'log.info("%s and %r", x, s)'),
    ('log.info("{1} {0} {1}".format(x, n))', 'log.info("%s %s %s", n, x, n)'),
    ('log.info("{{x}} {0!r}".format(s))', 'log.info("{x} %r", s)'),
    ('log.info("100% " + str(x) + " / " + repr(s))', 'log.info("100%% %s / %r", x, s)'),
    ('log.info("n=" + format(y, ".3f"))', None),  # format() spec: translated, but unsafe
]


def _source(call: str) -> str:
    return HARNESS.replace("CALL", call)


def _outputs(src: str) -> list[str]:
    return [run(src, v) for v in VALUES]


@pytest.mark.parametrize(("call", "expected"), SAFE_CASES)
def test_safe_rewrites_log_exactly_the_same(call: str, expected: str | None) -> None:
    src = _source(call)
    (finding,) = findings(src, SKILL)
    if expected is None:
        assert finding.fix is None or not finding.fix.safe
        return
    assert finding.fix is not None and finding.fix.safe, finding.fix
    after = fixed(src, SKILL)
    assert expected in after, after
    assert findings(after, SKILL) == []
    before_out, after_out = _outputs(src), _outputs(after)
    assert before_out == after_out
    assert all(out for out in after_out)


SPEC_CASES = [
    ('log.info(f"{y:.2f}")', 'log.info("%.2f", y)'),
    (
        'log.info(f"{x:d}|{x:5d}|{x:<5d}|{x:05d}|{x:+d}|{x: d}")',
        'log.info("%d|%5d|%-5d|%05d|%+d|% d", x, x, x, x, x, x)',
    ),
    ('log.info(f"{y:10.3e}|{y:G}|{y:+.1%}")', None),  # % type: no equivalent
    ('log.info(f"{n:x}|{n:#X}|{n:#o}|{n:08x}")', 'log.info("%x|%#X|%#o|%08x", n, n, n, n)'),
    ('log.info(f"{s:>8}|{s:<8}|{s:8s}|{s:.2s}")', 'log.info("%8s|%-8s|%-8s|%.2s", s, s, s, s)'),
    ('log.info(f"{x:>6}|{y:<12}")', 'log.info("%6s|%-12s", x, y)'),
    ('log.info(f"{y:10.3e}|{y:G}|{y:#.0f}")', 'log.info("%10.3e|%G|%#.0f", y, y, y)'),
]


@pytest.mark.parametrize(("call", "expected"), SPEC_CASES)
def test_format_specs_translate_for_numbers_and_strings_but_are_unsafe(
    call: str, expected: str | None
) -> None:
    src = _source(call)
    (finding,) = findings(src, SKILL)
    if expected is None:
        assert finding.fix is None
        return
    assert finding.fix is not None and not finding.fix.safe
    assert "__format__" in finding.fix.note
    after = fixed(src, SKILL)
    assert expected in after, after
    # identical for the types the note promises: int / float / str values
    numbers = ["emit(3, 2.5, 'abc', {}, None, 7)", "emit(-12, -1234.5678, 'xy', {}, None, 255)"]
    strings = ["emit(3, 0.001, 'abcdefghij', {}, None, 0)", "emit(0, 1e300, 'é', {}, None, 4096)"]
    for values in numbers + strings:
        if ":d" in call and "." in values.split(",")[0]:
            continue
        assert run(src, values) == run(after, values)


@pytest.mark.parametrize(
    "call",
    [
        'log.info(f"{s:^10}")',  # centring
        'log.info(f"{x:,}")',  # thousands separator
        'log.info(f"{x:_d}")',
        'log.info(f"{y:{n}}")',  # nested field
        'log.info(f"{x:5}")',  # no alignment: numbers right, strings left
        'log.info(f"{y:*>9}")',  # fill character
        'log.info(f"{x:b}")',  # binary
        'log.info(f"{y:n}")',  # locale
        'log.info(f"{x:=+5}")',
        'log.info(f"{x} %s", y)',  # already mixes both styles
        'log.info("%s %s" % (x,))',  # wrong arity: it raises today
        'log.info("{0.x}".format(p))',  # attribute field
        'log.info("{}".format(x, y))',  # unused argument
        'log.info("{0} {0}".format(p.x + 1))',  # would evaluate twice
        'log.info("a" + s * 2)',
    ],
)
def test_no_rewrite_where_percent_formatting_cannot_say_the_same(call: str) -> None:
    (finding,) = findings(_source(call), SKILL)
    assert finding.fix is None, finding.fix


def test_multiline_and_nested_quotes_round_trip() -> None:
    call = textwrap.indent(
        textwrap.dedent(
            '''\
            log.info(
                f"first {x} "  # a comment between the pieces
                f'second {d["k"]!r} '
                "plain 5% "
                f"""third
            {s}"" quote""",
                exc_info=True,
            )'''
        ),
        " " * 8,
    ).lstrip()
    src = _source(call)
    (finding,) = findings(src, SKILL)
    assert finding.fix is not None and finding.fix.safe
    after = fixed(src, SKILL)
    assert '"first %s "  # a comment between the pieces' in after
    assert "'second %r '" in after
    assert '"plain 5%% "' in after
    assert '"""third\n        %s\\"" quote""", x, d["k"], s,' in after
    assert "exc_info=True" in after
    for values in VALUES[:2]:
        assert run(src, values) == run(after, values)


def test_percent_with_a_bare_name_and_plus_with_a_name_are_unsafe() -> None:
    src = _source('log.info("pair %s" % s)')
    (finding,) = findings(src, SKILL)
    assert finding.fix is not None and not finding.fix.safe and "tuple" in finding.fix.note
    src = _source('log.info("two %s %s" % d)')
    (finding,) = findings(src, SKILL)
    assert finding.fix is not None and not finding.fix.safe
    assert 'log.info("two %s %s", *d)' in fixed(src, SKILL)
    src = _source('log.info("name " + s)')
    (finding,) = findings(src, SKILL)
    assert finding.fix is not None and not finding.fix.safe and "str" in finding.fix.note
    after = fixed(src, SKILL)
    assert 'log.info("name %s", s)' in after
    assert run(src, VALUES[0]) == run(after, VALUES[0])
    assert fixed(src, SKILL, only_safe=True) == textwrap.dedent(src)


def test_helper_and_structlog_loggers_get_unsafe_fixes_and_loguru_none() -> None:
    src = """
    import structlog
    from loguru import logger as loguru_logger
    from myapp.log import get_logger

    slog = structlog.get_logger()
    hlog = get_logger(__name__)

    def f(x):
        slog.debug(f"x {x}")
        hlog.debug(f"x {x}")
        loguru_logger.debug(f"x {x}")
    """
    s, h, lg = findings(src, SKILL)
    assert s.fix is not None and not s.fix.safe and "structlog" in s.fix.note
    assert "key-value pairs" in s.message
    assert h.fix is not None and not h.fix.safe and "helper" in h.fix.note
    assert h.confidence < s.confidence
    assert lg.fix is None and "{} placeholders" in lg.message


def test_example_shop_valid_orders() -> None:
    src = Path("examples/shop.py").read_text()
    found = [f for f in findings(src, SKILL) if f.function == "valid_orders"]
    assert len(found) == 1
    assert found[0].fix is not None and found[0].fix.safe
    assert 'log.info("dropping discontinued order %s (%s)", order.id, order.sku)' in fixed(
        src, SKILL
    )
