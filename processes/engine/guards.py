"""Run-time half of the script sandbox: budgets, guarded operators, attribute allowlist, builtins.

The compile-time half (``sandbox.py``) rewrites every script so that attribute access, item access,
iteration, ``*``, ``**``, ``<<``, ``+``, ``%`` and every loop / comprehension / lambda / function
call go through the functions defined here. One ``Run`` object is made per script execution and
carries its step counter, deadline and allocation budget.

Violations raise ``SandboxViolation``, a ``BaseException``: a script cannot swallow it with
``except Exception`` (bare ``except:`` is refused at compile time).
"""

from __future__ import annotations

import operator
import re
import sys
import time
from datetime import UTC, date, datetime, timedelta
from functools import partial

from RestrictedPython.Guards import guarded_iter_unpack_sequence, guarded_unpack_sequence

from . import clock

MAX_SEQUENCE = 1_000_000  # items / characters one operation may produce
MAX_ALLOCATION = 10_000_000  # items / characters all guarded operations of one run may produce
MAX_INT_BITS = 64_000  # size of an integer result of *, ** or <<
MAX_FORMAT_WIDTH = 10_000  # width / precision in a %-format or f-string format spec
_CLOCK_EVERY = 256  # check the wall clock every N steps


class SandboxViolation(BaseException):  # noqa: N818 - deliberately not an Exception
    """A script broke a sandbox rule or exhausted its budget."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class Namespace:
    """A frozen, explicit set of functions exposed to scripts under one name.

    Never a module and never a proxy: the attribute guard reads ``_members`` directly, so only the
    listed names exist. Optionally callable (``datetime(2024, 1, 1)``).
    """

    __slots__ = ("_name", "_call", "_members", "_type")

    def __init__(self, name, call=None, type_=None, **members):
        object.__setattr__(self, "_name", name)
        object.__setattr__(self, "_call", call)
        object.__setattr__(self, "_type", type_)
        object.__setattr__(self, "_members", dict(members))

    def __call__(self, *args, **kwargs):
        if self._call is None:
            raise TypeError(f"{self._name} is not callable")
        return self._call(*args, **kwargs)

    def __setattr__(self, name, value):
        raise AttributeError(f"{self._name} is read-only")

    def __repr__(self):
        return f"<{self._name}>"


def _today() -> date:
    return clock.now().date()


DATETIME = Namespace(
    "datetime",
    call=datetime,
    type_=datetime,
    now=clock.now,
    fromisoformat=datetime.fromisoformat,
    strptime=datetime.strptime,
)
DATE = Namespace("date", call=date, type_=date, today=_today, fromisoformat=date.fromisoformat)
TIMEDELTA = Namespace("timedelta", call=timedelta, type_=timedelta)

_STR_ATTRS = frozenset(
    "capitalize casefold count endswith find index isalnum isalpha isdecimal isdigit islower "
    "isnumeric isspace istitle isupper join lower lstrip partition removeprefix removesuffix replace "
    "rfind rindex rpartition rsplit rstrip split splitlines startswith strip swapcase title upper".split()
)
_LIST_ATTRS = frozenset("append clear copy count extend index insert pop remove reverse sort".split())
_DICT_ATTRS = frozenset("clear copy get items keys pop popitem setdefault update values".split())
_SET_ATTRS = frozenset(
    "add clear copy difference discard intersection isdisjoint issubset issuperset pop remove "
    "symmetric_difference union update".split()
)
_NUMBER_ATTRS = frozenset("real imag is_integer bit_length numerator denominator".split())
_DATE_ATTRS = frozenset("year month day isoformat weekday isoweekday replace strftime".split())
_DATETIME_ATTRS = _DATE_ATTRS | frozenset(
    "hour minute second microsecond tzinfo date timestamp astimezone".split()
)
_TIMEDELTA_ATTRS = frozenset("days seconds microseconds total_seconds".split())

ALLOWED_ATTRIBUTES: dict[type, frozenset[str]] = {
    str: _STR_ATTRS,
    list: _LIST_ATTRS,
    dict: _DICT_ATTRS,
    set: _SET_ATTRS,
    frozenset: _SET_ATTRS - {"add", "clear", "discard", "pop", "remove", "update"},
    tuple: frozenset({"count", "index"}),
    int: _NUMBER_ATTRS - {"is_integer"},
    bool: frozenset(),
    float: _NUMBER_ATTRS - {"bit_length", "numerator", "denominator"},
    date: _DATE_ATTRS,
    datetime: _DATETIME_ATTRS,
    timedelta: _TIMEDELTA_ATTRS,
}
_SIZED = (str, list, tuple, bytes, set, frozenset, dict)
_CONTAINERS = frozenset({str, list, tuple, set, frozenset, dict})
_FORMAT_SPEC = re.compile(r"%[-#0 +]*(\*|\d+)?(?:\.(\*|\d+))?")


class Run:
    """The budget and guard functions of one script execution."""

    __slots__ = ("steps", "max_steps", "max_seconds", "deadline", "allocated")

    def __init__(self, max_steps: int, max_seconds: float):
        self.steps = 0
        self.max_steps = max_steps
        self.max_seconds = max_seconds
        self.deadline = time.monotonic() + max_seconds
        self.allocated = 0

    # -- budgets ---------------------------------------------------------------------------------
    def step(self) -> bool:
        self.steps += 1
        handled = sys.exception()
        if handled is not None:
            # Raising inside except/finally walks the handled exception's context chain; cut it so
            # a recursion through finally blocks stays linear instead of quadratic.
            handled.__context__ = None
        if self.steps > self.max_steps:
            raise SandboxViolation(
                f"script stopped after {self.max_steps} steps (a loop, comprehension or recursion runs too long)"
            )
        if not self.steps % _CLOCK_EVERY and time.monotonic() > self.deadline:
            raise SandboxViolation(f"script stopped after {self.max_seconds} s")
        return True

    def allocate(self, size: int) -> None:
        if size > MAX_SEQUENCE:
            raise SandboxViolation(f"result too large ({size} items or characters, limit {MAX_SEQUENCE})")
        self.allocated += size
        if self.allocated > MAX_ALLOCATION:
            raise SandboxViolation(f"script built more than {MAX_ALLOCATION} items or characters")

    def _account(self, value):
        if isinstance(value, _SIZED):
            self.allocate(len(value))
        return value

    def _textual(self, value) -> None:
        """Refuse to turn a value into text when its text would be huge (shared references count
        each time, as they do in ``repr``)."""
        if not isinstance(value, (str, int, float)) and deep_size(value, MAX_SEQUENCE) > MAX_SEQUENCE:
            raise SandboxViolation(
                f"value too large to turn into text (limit {MAX_SEQUENCE} items or characters)"
            )

    # -- guarded operators -----------------------------------------------------------------------
    def mul(self, a, b):
        if isinstance(a, int) and isinstance(b, int):
            if a.bit_length() + b.bit_length() > MAX_INT_BITS:
                raise SandboxViolation(f"integer result too large (more than {MAX_INT_BITS} bits)")
            return a * b
        if isinstance(a, _SIZED) and isinstance(b, int):
            self.allocate(len(a) * max(b, 0))
        elif isinstance(b, _SIZED) and isinstance(a, int):
            self.allocate(len(b) * max(a, 0))
        return a * b

    def pow(self, a, b):
        if isinstance(a, int) and isinstance(b, int) and b > 0 and abs(a) > 1:
            if a.bit_length() * b > MAX_INT_BITS:
                raise SandboxViolation(f"integer result too large (more than {MAX_INT_BITS} bits)")
        return a**b

    def lshift(self, a, b):
        if isinstance(a, int) and isinstance(b, int) and a and b > 0 and a.bit_length() + b > MAX_INT_BITS:
            raise SandboxViolation(f"integer result too large (more than {MAX_INT_BITS} bits)")
        return a << b

    def add(self, a, b):
        if isinstance(a, _SIZED) and isinstance(b, _SIZED):
            self.allocate(len(a) + len(b))
        return a + b

    def mod(self, a, b):
        if isinstance(a, str):
            for width, precision in _FORMAT_SPEC.findall(a):
                for part in (width, precision):
                    if part == "*" or (part and int(part) > MAX_FORMAT_WIDTH):
                        raise SandboxViolation("%-format width or precision too large")
            self._textual(b)
            return self._account(a % b)
        return a % b

    def inplacevar(self, op: str, a, b):
        guarded = _INPLACE.get(op)
        if guarded is not None:
            return guarded(self, a, b)
        return _PLAIN_INPLACE[op](a, b)

    def fvalue(self, value):
        """Guard of one ``{value}`` in an f-string: the joined string is at most a few of these."""
        self._textual(value)
        self.allocate(len(value if isinstance(value, str) else str(value)))
        return value

    # -- guarded access --------------------------------------------------------------------------
    def getattr(self, obj, name: str):
        kind = type(obj)
        if kind is Namespace:
            members = obj._members
            if name not in members:
                raise SandboxViolation(f"{obj._name} has no attribute '{name}' available to scripts")
            return members[name]
        allowed = ALLOWED_ATTRIBUTES.get(kind)
        if allowed is None or name not in allowed:
            raise SandboxViolation(
                f"attribute '{name}' of a {kind.__name__} value is not available to scripts"
            )
        wrapper = _WRAPPED.get((kind, name))
        if wrapper is not None:
            return partial(wrapper, self, obj)
        attribute = getattr(obj, name)
        if kind in _CONTAINERS and callable(attribute):
            return partial(_accounted, self, attribute)  # split(), copy(), union() ... count too
        return attribute

    def getitem(self, obj, key):
        value = obj[key]
        if type(key) is slice:
            self._account(value)
        return value

    def write(self, obj):
        if type(obj) in (dict, list):
            return obj
        raise SandboxViolation(f"a {type(obj).__name__} value cannot be modified by scripts")

    # -- builtins that build sequences -----------------------------------------------------------
    def range(self, *args):
        value = range(*args)
        if len(value) > MAX_SEQUENCE:
            raise SandboxViolation(f"range too large ({len(value)} items, limit {MAX_SEQUENCE})")
        return value

    def list(self, *args):
        return self._account(list(*args))

    def tuple(self, *args):
        return self._account(tuple(*args))

    def set(self, *args):
        return self._account(set(*args))

    def sorted(self, iterable, *, key=None, reverse=False):
        return self._account(sorted(iterable, key=key, reverse=reverse))

    def str(self, *args):
        if args:
            self._textual(args[0])
        return self._account(str(*args))

    def isinstance(self, obj, types):
        return isinstance(obj, _resolve_types(self, types))

    def globals_for(self) -> dict:
        """Guard names the rewritten code refers to, plus the builtins bound to this run."""
        builtins = dict(SAFE_BUILTINS)
        for name in ("range", "list", "tuple", "set", "sorted", "str", "isinstance"):
            builtins[name] = getattr(self, name)
        return {
            "__builtins__": builtins,
            "_getattr_": self.getattr,
            "_getitem_": self.getitem,
            "_write_": self.write,
            "_getiter_": iter,
            "_iter_unpack_sequence_": guarded_iter_unpack_sequence,
            "_unpack_sequence_": guarded_unpack_sequence,
            "_apply_": _apply,
            "_inplacevar_": self.inplacevar,
            "_step_": self.step,
            "_mul_": self.mul,
            "_pow_": self.pow,
            "_lshift_": self.lshift,
            "_add_": self.add,
            "_mod_": self.mod,
            "_fvalue_": self.fvalue,
            "_account_": self._account,
        }


def _resolve_types(run: Run, types):
    if isinstance(types, tuple):
        return tuple(_resolve_types(run, t) for t in types)
    if type(types) is Namespace and types._type is not None:
        return types._type
    resolved = _ISINSTANCE_TYPES.get(types)
    if resolved is None:
        bound = getattr(types, "__func__", None)
        resolved = _ISINSTANCE_TYPES.get(bound)
    if resolved is None:
        raise SandboxViolation("isinstance() accepts only the basic types (str, int, float, list, dict, ...)")
    return resolved


def deep_size(value, limit: int) -> int:
    """Items and characters in ``value``, shared references counted each time (as ``repr`` and
    JSON would expand them); stops as soon as the count passes ``limit``."""
    total, stack = 0, [value]
    while stack:
        item = stack.pop()
        kind = type(item)
        if kind is str:
            total += len(item)
        elif kind in (list, tuple, set, frozenset, dict):
            total += len(item) + 1
            if total <= limit:
                stack.extend(item.values() if kind is dict else item)
        else:
            total += 1
        if total > limit:
            break
    return total


def _accounted(run: Run, method, *args, **kwargs):
    return run._account(method(*args, **kwargs))


def _apply(func, *args, **kwargs):
    return func(*args, **kwargs)


def _str_join(run: Run, sep: str, iterable):
    parts, total = [], 0
    for part in iterable:
        total += len(sep) + (len(part) if isinstance(part, str) else 0)
        if total > MAX_SEQUENCE:
            raise SandboxViolation(f"joined string too large (limit {MAX_SEQUENCE} characters)")
        parts.append(part)
    return run._account(sep.join(parts))


def _str_replace(run: Run, text: str, old: str, new: str, count: int = -1):
    hits = text.count(old) if old else len(text) + 1
    if count >= 0:
        hits = min(hits, count)
    run.allocate(len(text) + hits * max(len(new) - len(old), 0))
    return text.replace(old, new, count)


def _list_extend(run: Run, items: list, other) -> None:
    other = list(other)
    run.allocate(len(items) + len(other))
    items.extend(other)


def _sum(iterable, start=0):
    if not isinstance(start, (int, float)):
        raise TypeError("sum() start value must be a number")
    return sum(iterable, start)


_WRAPPED = {(str, "join"): _str_join, (str, "replace"): _str_replace, (list, "extend"): _list_extend}
_INPLACE = {"+=": Run.add, "*=": Run.mul, "**=": Run.pow, "<<=": Run.lshift, "%=": Run.mod}
_PLAIN_INPLACE = {
    "-=": operator.sub,
    "/=": operator.truediv,
    "//=": operator.floordiv,
    ">>=": operator.rshift,
    "&=": operator.and_,
    "|=": operator.or_,
    "^=": operator.xor,
    "@=": operator.matmul,
}
_ISINSTANCE_TYPES = {t: t for t in (str, int, float, bool, list, dict, set, tuple, frozenset, type(None))}
_ISINSTANCE_TYPES.update({Run.list: list, Run.tuple: tuple, Run.set: set, Run.str: str})

SAFE_BUILTINS: dict[str, object] = {
    "len": len,
    "min": min,
    "max": max,
    "sum": _sum,
    "abs": abs,
    "round": round,
    "int": int,
    "float": float,
    "bool": bool,
    "dict": dict,
    "enumerate": enumerate,
    "zip": zip,
    "any": any,
    "all": all,
    "reversed": reversed,
    "datetime": DATETIME,
    "date": DATE,
    "timedelta": TIMEDELTA,
    "timezone_utc": UTC,
    "Exception": Exception,
    "ValueError": ValueError,
    "KeyError": KeyError,
    "TypeError": TypeError,
    "IndexError": IndexError,
    "ZeroDivisionError": ZeroDivisionError,
}


GUARD_NAMES = frozenset(Run(1, 1).globals_for())
