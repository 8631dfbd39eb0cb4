"""The `perftools.profiles.Profile` protobuf message, described in Python instead of protoc output.

The message layout follows github.com/google/pprof proto/profile.proto (proto3). Building the
descriptor here keeps generated code out of the repository and works with any protobuf runtime
(upb, C++, pure Python) without the "descriptors cannot be created directly" errors that stale
`_pb2.py` files hit after a protobuf upgrade. Only the field numbers and types matter on the wire;
every field of the upstream schema is declared so that none is read as an unknown field.

The message classes live in a private descriptor pool: another library that registered its own
copy of `perftools.profiles` in the default pool (austin-python, ddtrace, ...) cannot conflict.
"""

from __future__ import annotations

import functools

from google.protobuf import descriptor_pb2, descriptor_pool, message, message_factory

PACKAGE = "perftools.profiles"
# A name of our own: the pool only needs it to be unique, and it must not pretend to be upstream's.
FILE_NAME = "megawatt/profiles/pprof_profile.proto"

_F = descriptor_pb2.FieldDescriptorProto
_INT64 = _F.TYPE_INT64
_UINT64 = _F.TYPE_UINT64
_BOOL = _F.TYPE_BOOL
_STRING = _F.TYPE_STRING
_MESSAGE = _F.TYPE_MESSAGE
_ONE = _F.LABEL_OPTIONAL
_MANY = _F.LABEL_REPEATED

# message → [(field name, number, type, label, message type name or None)], as in profile.proto
_SCHEMA: dict[str, list[tuple[str, int, int, int, str | None]]] = {
    "Profile": [
        ("sample_type", 1, _MESSAGE, _MANY, "ValueType"),
        ("sample", 2, _MESSAGE, _MANY, "Sample"),
        ("mapping", 3, _MESSAGE, _MANY, "Mapping"),
        ("location", 4, _MESSAGE, _MANY, "Location"),
        ("function", 5, _MESSAGE, _MANY, "Function"),
        ("string_table", 6, _STRING, _MANY, None),
        ("drop_frames", 7, _INT64, _ONE, None),
        ("keep_frames", 8, _INT64, _ONE, None),
        ("time_nanos", 9, _INT64, _ONE, None),
        ("duration_nanos", 10, _INT64, _ONE, None),
        ("period_type", 11, _MESSAGE, _ONE, "ValueType"),
        ("period", 12, _INT64, _ONE, None),
        ("comment", 13, _INT64, _MANY, None),
        ("default_sample_type", 14, _INT64, _ONE, None),
        ("doc_url", 15, _INT64, _ONE, None),
    ],
    "ValueType": [
        ("type", 1, _INT64, _ONE, None),
        ("unit", 2, _INT64, _ONE, None),
    ],
    "Sample": [
        ("location_id", 1, _UINT64, _MANY, None),
        ("value", 2, _INT64, _MANY, None),
        ("label", 3, _MESSAGE, _MANY, "Label"),
    ],
    "Label": [
        ("key", 1, _INT64, _ONE, None),
        ("str", 2, _INT64, _ONE, None),
        ("num", 3, _INT64, _ONE, None),
        ("num_unit", 4, _INT64, _ONE, None),
    ],
    "Mapping": [
        ("id", 1, _UINT64, _ONE, None),
        ("memory_start", 2, _UINT64, _ONE, None),
        ("memory_limit", 3, _UINT64, _ONE, None),
        ("file_offset", 4, _UINT64, _ONE, None),
        ("filename", 5, _INT64, _ONE, None),
        ("build_id", 6, _INT64, _ONE, None),
        ("has_functions", 7, _BOOL, _ONE, None),
        ("has_filenames", 8, _BOOL, _ONE, None),
        ("has_line_numbers", 9, _BOOL, _ONE, None),
        ("has_inline_frames", 10, _BOOL, _ONE, None),
    ],
    "Location": [
        ("id", 1, _UINT64, _ONE, None),
        ("mapping_id", 2, _UINT64, _ONE, None),
        ("address", 3, _UINT64, _ONE, None),
        ("line", 4, _MESSAGE, _MANY, "Line"),
        ("is_folded", 5, _BOOL, _ONE, None),
    ],
    "Line": [
        ("function_id", 1, _UINT64, _ONE, None),
        ("line", 2, _INT64, _ONE, None),
        ("column", 3, _INT64, _ONE, None),
    ],
    "Function": [
        ("id", 1, _UINT64, _ONE, None),
        ("name", 2, _INT64, _ONE, None),
        ("system_name", 3, _INT64, _ONE, None),
        ("filename", 4, _INT64, _ONE, None),
        ("start_line", 5, _INT64, _ONE, None),
    ],
}


def file_descriptor() -> descriptor_pb2.FileDescriptorProto:
    """profile.proto as a `FileDescriptorProto`."""
    fdp = descriptor_pb2.FileDescriptorProto(name=FILE_NAME, package=PACKAGE, syntax="proto3")
    for message_name, fields in _SCHEMA.items():
        msg = fdp.message_type.add(name=message_name)
        for name, number, type_, label, type_name in fields:
            field = msg.field.add(name=name, number=number, type=type_, label=label)
            if type_name is not None:
                field.type_name = f".{PACKAGE}.{type_name}"
            # proto3 packs repeated scalars by default, which is what pprof writers emit; the
            # parser accepts the unpacked encoding as well, so nothing needs setting here.
    return fdp


@functools.cache
def _pool() -> descriptor_pool.DescriptorPool:
    pool = descriptor_pool.DescriptorPool()
    pool.Add(file_descriptor())
    return pool


@functools.cache
def message_class(name: str = "Profile") -> type[message.Message]:
    """The generated class of one message of profile.proto, built once per process."""
    descriptor = _pool().FindMessageTypeByName(f"{PACKAGE}.{name}")
    return message_factory.GetMessageClass(descriptor)


def profile_class() -> type[message.Message]:
    """The class of `perftools.profiles.Profile`."""
    return message_class("Profile")
