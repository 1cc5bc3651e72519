#!/usr/bin/env python3
"""A copy of a fully convolutional detector with another fixed input size.

    python3 models/reshape_input.py IN.onnx OUT.onnx --height 256 [--width 416]

YOLOX-Nano is exported for 416x416, but its graph computes every shape it needs (its three
Reshapes are to [1, 85, -1]), so the same weights run on any input whose sides are multiples
of 32. A 16:9 frame letterboxed into 416x416 fills 234 rows and pads 182; at 416x256 it pads
22, and the network does 62 % of the work. ONNX Runtime refuses an input whose shape differs
from the one the file declares, so the declaration is rewritten: the input's height and width,
and the output's row count (the cells of the strides 8, 16 and 32). Each value is rewritten in
place, as a varint of the same length, so nothing else in the file moves; the copy is the same
bytes for the same inputs (its sha256 goes in the manifest). No third-party package is needed.
"""
import argparse
import sys


def varint(buf, i):
    """The varint at buf[i] and the index after it."""
    value, shift = 0, 0
    while True:
        byte = buf[i]
        i += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if byte < 0x80:
            return value, i


def fields(buf, start=0, end=None):
    """(field number, wire type, value or (offset, length), offset of the value) of a message."""
    i, end = start, len(buf) if end is None else end
    while i < end:
        key, i = varint(buf, i)
        number, wire = key >> 3, key & 7
        at = i
        if wire == 0:
            value, i = varint(buf, i)
        elif wire == 1:
            value, i = None, i + 8
        elif wire == 5:
            value, i = None, i + 4
        elif wire == 2:
            length, i = varint(buf, i)
            value, at = (i, length), i
            i += length
        else:
            sys.exit(f"unsupported wire type {wire} at byte {at}")
        yield number, wire, value, at


def sub(buf, span):
    return span[0], span[0] + span[1]


def messages(buf, span, number):
    """The sub-messages (spans) of field `number` in the message at `span`."""
    return [v for n, w, v, _ in fields(buf, *sub(buf, span)) if n == number and w == 2]


def dims(buf, value_info):
    """Offsets and values of a ValueInfoProto's tensor dimensions (dim_value ones): its
    type (2) . tensor_type (1) . shape (2) . dim (1) . dim_value (1)."""
    spans = [value_info]
    for number in (2, 1, 2, 1):
        spans = [m for span in spans for m in messages(buf, span, number)]
    return [(at, v) for span in spans for n, w, v, at in fields(buf, *sub(buf, span))
            if n == 1 and w == 0]


def name(buf, value_info):
    """A ValueInfoProto's name (field 1)."""
    for n, w, v, _ in fields(buf, *sub(buf, value_info)):
        if n == 1 and w == 2:
            return bytes(buf[v[0]:v[0] + v[1]]).decode()
    return ""


def encode(value):
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def put(buf, at, old, new):
    """Rewrites the varint `old` at `at` as `new`, which must take as many bytes."""
    a, b = encode(old), encode(new)
    if bytes(buf[at:at + len(a)]) != a:
        sys.exit(f"byte {at} does not hold {old}")
    if len(a) != len(b):
        sys.exit(f"{old} -> {new} changes the varint's length ({len(a)} -> {len(b)} bytes)")
    buf[at:at + len(b)] = b


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("input")
    ap.add_argument("output")
    ap.add_argument("--height", type=int, required=True)
    ap.add_argument("--width", type=int, default=416)
    args = ap.parse_args()
    for side in (args.width, args.height):
        if side % 32 or not 32 <= side <= 4096:
            sys.exit(f"{side}: sides must be multiples of 32 within 32-4096")
    buf = bytearray(open(args.input, "rb").read())
    graph = next((v for n, w, v, _ in fields(buf) if n == 7 and w == 2), None)
    if graph is None:
        sys.exit("no graph")
    inputs, outputs = messages(buf, graph, 11), messages(buf, graph, 12)
    if len(inputs) != 1 or len(outputs) != 1:
        sys.exit(f"expected one input and one output, not {len(inputs)} and {len(outputs)}")
    shape_in, shape_out = dims(buf, inputs[0]), dims(buf, outputs[0])
    if len(shape_in) != 4 or len(shape_out) != 3:
        sys.exit(f"expected an NCHW input and a [1, cells, values] output: {shape_in}, {shape_out}")
    (_, n), (_, c), (h_at, h), (w_at, w) = shape_in
    cells = lambda hh, ww: sum((hh // s) * (ww // s) for s in (8, 16, 32))
    rows_at, rows = shape_out[1]
    if rows != cells(h, w):
        sys.exit(f"the output's {rows} rows are not the cells of strides 8, 16, 32 over {h}x{w}")
    put(buf, h_at, h, args.height)
    put(buf, w_at, w, args.width)
    put(buf, rows_at, rows, cells(args.height, args.width))
    with open(args.output, "wb") as f:
        f.write(buf)
    print(f"{name(buf, inputs[0])} [{n}, {c}, {h}, {w}] -> [{n}, {c}, {args.height}, {args.width}]; "
          f"{name(buf, outputs[0])} rows {rows} -> {cells(args.height, args.width)}: {args.output}")


if __name__ == "__main__":
    main()
