"""Vectorised text building: millions of ids, phones and message bodies without a Python loop per row.

Fixed-width text is built as a numpy byte matrix (one row per string) and handed to Arrow as the
data buffer of a string array; variable text is joined element-wise by Arrow compute kernels.
"""
import re
from collections.abc import Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

# Byte value -> its two hexadecimal digits.
_HEX_PAIRS_UPPER = np.frombuffer(b"".join(b"%02X" % i for i in range(256)), dtype=np.uint8).reshape(256, 2)
_HEX_PAIRS_LOWER = np.frombuffer(b"".join(b"%02x" % i for i in range(256)), dtype=np.uint8).reshape(256, 2)
_BASE64 = np.frombuffer(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/", dtype=np.uint8)
# 0-99 -> its two decimal digits.
_DEC_PAIRS = np.frombuffer(b"".join(b"%02d" % i for i in range(100)), dtype=np.uint8).reshape(100, 2)

_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)


def mix64(x: np.ndarray) -> np.ndarray:
    """SplitMix64's finaliser: a bijection on uint64, so distinct keys give distinct hashes."""
    x = np.asarray(x, dtype=np.uint64)
    x = (x ^ (x >> np.uint64(30))) * _M1
    x = (x ^ (x >> np.uint64(27))) * _M2
    return x ^ (x >> np.uint64(31))


def strings(matrix: np.ndarray, lengths: np.ndarray | None = None) -> pa.StringArray:
    """One string per row of an ASCII/UTF-8 byte matrix, cut to `lengths` when given."""
    rows, width = matrix.shape
    if lengths is None:
        offsets = np.arange(0, rows * width + 1, width, dtype=np.int32)
        data = np.ascontiguousarray(matrix, dtype=np.uint8).ravel()
    else:
        offsets = np.zeros(rows + 1, dtype=np.int32)
        np.cumsum(lengths, out=offsets[1:])
        data = matrix[np.arange(width) < np.asarray(lengths)[:, None]]
    return pa.StringArray.from_buffers(rows, pa.py_buffer(offsets), pa.py_buffer(data))


def hex_digits(values: np.ndarray, width: int, upper: bool = False) -> np.ndarray:
    """(N, width) matrix of the low `4 * width` bits of `values` in hexadecimal, most significant first."""
    needed = -(-width // 2)  # low bytes holding those bits
    big_endian = np.asarray(values, dtype=">u8").view(np.uint8).reshape(-1, 8)[:, 8 - needed:]
    pairs = (_HEX_PAIRS_UPPER if upper else _HEX_PAIRS_LOWER)[big_endian].reshape(-1, 2 * needed)
    return pairs[:, 2 * needed - width:]


def dec_digits(values: np.ndarray, width: int) -> np.ndarray:
    """(N, width) matrix of non-negative `values` in decimal, zero-padded to `width` digits."""
    pairs = -(-width // 2)
    powers = 100 ** np.arange(pairs - 1, -1, -1, dtype=np.int64)
    base100 = (np.asarray(values, dtype=np.int64)[:, None] // powers) % 100
    return _DEC_PAIRS[base100].reshape(-1, 2 * pairs)[:, 2 * pairs - width:]


def base64_rows(data: np.ndarray) -> np.ndarray:
    """Standard base64 of each row of a byte matrix, '='-padded: an (N, 4 * ceil(width / 3)) matrix."""
    rows, width = data.shape
    groups = -(-width // 3)
    padded = np.zeros((rows, groups, 3), dtype=np.uint8)
    padded.reshape(rows, groups * 3)[:, :width] = data
    a, b, c = padded[:, :, 0], padded[:, :, 1], padded[:, :, 2]
    sextets = np.empty((rows, groups, 4), dtype=np.uint8)
    np.right_shift(a, 2, out=sextets[:, :, 0])
    sextets[:, :, 1] = ((a & 3) << 4) | (b >> 4)
    sextets[:, :, 2] = ((b & 15) << 2) | (c >> 6)
    np.bitwise_and(c, 63, out=sextets[:, :, 3])
    out = _BASE64[sextets.reshape(rows, groups * 4)]
    padding = groups * 3 - width
    if padding:
        out[:, -padding:] = ord("=")
    return out


def take_strings(values: Sequence[str | None], index: np.ndarray) -> pa.Array:
    """`values[index]` as a plain string array (index -1 gives null)."""
    return pc.take(pa.array(list(values), type=pa.string()), pa.array(index, mask=np.asarray(index) < 0))


def categorical(values: Sequence[str | None], index: np.ndarray) -> pa.DictionaryArray:
    """A dictionary-encoded column: `values[index]`, null where index is -1 or the value is None."""
    distinct = list(dict.fromkeys(x for x in values if x is not None))
    # Position -1 (the extra last slot) and None values become nulls; equal values share one entry.
    remap = np.array([distinct.index(x) if x is not None else -1 for x in values] + [-1], dtype=np.int32)
    codes = remap[np.asarray(index)]
    return pa.DictionaryArray.from_arrays(pa.array(codes, mask=codes < 0), pa.array(distinct, type=pa.string()))


def split_placeholders(text: str) -> list[str]:
    """`"Olá, {nome}!"` -> `["Olá, ", "nome", "!"]`: literals at even positions, parameter names at odd."""
    return re.split(r"\{(\w+)\}", text)


def fill(template_parts: Sequence[str | None], params: dict[str, pa.Array]) -> pa.Array:
    """Join literal parts and parameter arrays element-wise; `template_parts` as `split_placeholders` makes."""
    pieces: list[pa.Array | str] = []
    for i, part in enumerate(template_parts):
        if i % 2:
            pieces.append(params[part])
        elif part:
            pieces.append(part)
    return pc.binary_join_element_wise(*pieces, "")


def money_brl(cents: np.ndarray) -> pa.Array:
    """Amounts in Brazilian notation without the currency sign: 1.234,56 / 89,90."""
    cents = np.asarray(cents, dtype=np.int64)
    reais, rest = np.divmod(cents, 100)
    thousands, units = np.divmod(reais, 1000)
    big = thousands > 0
    units_text = pc.if_else(
        pa.array(big),
        pc.binary_join_element_wise(pc.cast(pa.array(thousands), pa.string()),
                                    strings(dec_digits(units, 3)), "."),
        pc.cast(pa.array(reais), pa.string()),
    )
    return pc.binary_join_element_wise(units_text, strings(dec_digits(rest, 2)), ",")


def scatter(groups: list[tuple[np.ndarray, pa.Array]], size: int) -> pa.Array:
    """Reassemble per-group arrays into one array: group `(rows, values)` puts values[i] at rows[i]."""
    order = np.concatenate([rows for rows, _ in groups]) if groups else np.zeros(0, dtype=np.intp)
    if len(order) != size:
        raise ValueError("groups do not cover every row exactly once")
    inverse = np.empty(size, dtype=np.intp)
    inverse[order] = np.arange(size)
    merged = pa.concat_arrays([values.cast(pa.string()) for _, values in groups])
    return pc.take(merged, pa.array(inverse))
