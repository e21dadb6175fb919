"""Read a PyTorch state dict (``.pth``) into numpy arrays without PyTorch, refusing unsafe pickles.

A ``torch.save`` file is a pickle whose tensors point at raw storages kept next to it. Two layouts exist:

- the zip layout (torch >= 1.6): ``<root>/data.pkl`` plus one member ``<root>/data/<key>`` per storage;
- the legacy layout (torch < 1.6, e.g. the EfficientNet-Lite0 file): five pickles and raw storages back to
  back in one stream (magic number, protocol version, system info, the object, the storage keys, then for each
  storage an 8-byte little-endian element count followed by its bytes).

Unpickling runs arbitrary code when a pickle names an arbitrary global. :class:`RestrictedUnpickler` resolves
only the handful of globals a state dict needs (``collections.OrderedDict``, the ``torch._utils`` tensor
rebuild helpers, the ``torch.*Storage`` types), each mapped to a function of this module that builds
placeholders, and raises :class:`UnsafePickleError` for every other global. No torch import happens anywhere.
"""

from __future__ import annotations

import collections
import math
import pickle
import struct
import tarfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import numpy as np

__all__ = [
    "RestrictedUnpickler",
    "TorchFileError",
    "UnsafePickleError",
    "load_state_dict",
]

_LEGACY_MAGIC = 0x1950A86A20F9469CFC6C
_LEGACY_PROTOCOL = 1001
_MAX_ZIP_RATIO = 20  # torch.save stores storages uncompressed; a member inflating more is refused

# torch storage type name -> numpy dtype of one element ("bfloat16" is widened to float32 on read).
_STORAGE_DTYPES: dict[str, str] = {
    "FloatStorage": "<f4",
    "DoubleStorage": "<f8",
    "HalfStorage": "<f2",
    "BFloat16Storage": "bfloat16",
    "LongStorage": "<i8",
    "IntStorage": "<i4",
    "ShortStorage": "<i2",
    "CharStorage": "i1",
    "ByteStorage": "u1",
    "BoolStorage": "?",
}


class TorchFileError(ValueError):
    """The file is not a readable PyTorch state dict (wrong layout, truncated, unsupported feature)."""


class UnsafePickleError(TorchFileError):
    """The pickle names a global outside the allow-list: the file is refused, nothing of it is executed."""


@dataclass(frozen=True)
class _StorageType:
    """Stands for ``torch.<Name>Storage`` inside the pickle; only its element dtype matters."""

    name: str

    @property
    def itemsize(self) -> int:
        dtype = _STORAGE_DTYPES[self.name]
        return 2 if dtype == "bfloat16" else np.dtype(dtype).itemsize


@dataclass
class _Storage:
    """A storage announced by a persistent id; its bytes are attached once read from the file."""

    storage_type: _StorageType
    numel: int
    data: np.ndarray | None = None
    # Legacy views share a root storage from an element offset.
    root: _Storage | None = None
    offset: int = 0

    def array(self) -> np.ndarray:
        if self.root is not None:
            return self.root.array()[self.offset : self.offset + self.numel]
        if self.data is None:
            raise TorchFileError("a tensor refers to a storage whose bytes are not in the file")
        return self.data


@dataclass
class _LazyTensor:
    """What ``_rebuild_tensor_v2`` returns: resolved to a numpy array once all storages are read."""

    storage: _Storage
    offset: int
    size: tuple[int, ...]
    stride: tuple[int, ...]

    def resolve(self) -> np.ndarray:
        flat = self.storage.array()
        if len(self.size) != len(self.stride) or any(n < 0 for n in self.size):
            raise TorchFileError(f"tensor with size {self.size} and stride {self.stride}")
        if not self.size:
            if not 0 <= self.offset < flat.size:
                raise TorchFileError(f"scalar at {self.offset} outside its storage of {flat.size} elements")
            return np.array(flat[self.offset], dtype=flat.dtype)
        if any(n == 0 for n in self.size):
            return np.zeros(self.size, dtype=flat.dtype)
        span = 1 + sum((n - 1) * s for n, s in zip(self.size, self.stride, strict=True))
        if math.prod(self.size) > flat.size:
            raise TorchFileError(
                f"tensor of size {self.size} has more elements than its storage ({flat.size})"
            )
        if self.offset < 0 or self.offset + span > flat.size or any(s < 0 for s in self.stride):
            raise TorchFileError(f"tensor of size {self.size} runs past its storage of {flat.size} elements")
        base = flat[self.offset :]
        view = np.lib.stride_tricks.as_strided(
            base, shape=self.size, strides=[s * flat.itemsize for s in self.stride], writeable=False
        )
        return np.array(view, copy=True)


def _rebuild_tensor_v2(
    storage: _Storage,
    storage_offset: int,
    size: tuple[int, ...],
    stride: tuple[int, ...],
    requires_grad: bool = False,
    backward_hooks: Any = None,
    metadata: Any = None,
) -> _LazyTensor:
    if not isinstance(storage, _Storage):
        raise TorchFileError("_rebuild_tensor_v2 called without a storage")
    return _LazyTensor(
        storage, int(storage_offset), tuple(int(n) for n in size), tuple(int(s) for s in stride)
    )


def _rebuild_tensor(
    storage: _Storage, storage_offset: int, size: tuple[int, ...], stride: tuple[int, ...]
) -> _LazyTensor:
    return _rebuild_tensor_v2(storage, storage_offset, size, stride)


def _rebuild_parameter(
    data: _LazyTensor, requires_grad: bool = False, backward_hooks: Any = None
) -> _LazyTensor:
    if not isinstance(data, _LazyTensor):
        raise TorchFileError("_rebuild_parameter called without a tensor")
    return data


# The whole allow-list: (module, name) -> what the pickle gets instead of the real global.
_ALLOWED: dict[tuple[str, str], Callable[..., Any] | type | _StorageType] = {
    ("collections", "OrderedDict"): collections.OrderedDict,
    ("torch._utils", "_rebuild_tensor_v2"): _rebuild_tensor_v2,
    ("torch._utils", "_rebuild_tensor"): _rebuild_tensor,
    ("torch._utils", "_rebuild_parameter"): _rebuild_parameter,
    **{("torch", name): _StorageType(name) for name in _STORAGE_DTYPES},
}


class RestrictedUnpickler(pickle.Unpickler):
    """A ``pickle.Unpickler`` that resolves only the globals a PyTorch state dict needs.

    ``find_class`` maps ``collections.OrderedDict``, ``torch._utils._rebuild_tensor[_v2]``,
    ``torch._utils._rebuild_parameter`` and ``torch.<T>Storage`` to this module's own objects and raises
    :class:`UnsafePickleError` for anything else (``os.system``, ``builtins.eval``, ``torch.load``...).
    ``persistent_load`` turns storage references into placeholders (see :func:`load_state_dict`).
    """

    def __init__(self, file: IO[bytes], persistent_load: Callable[[Any], Any] | None = None) -> None:
        super().__init__(file)
        self._persistent = persistent_load

    def find_class(self, module: str, name: str) -> Any:
        try:
            return _ALLOWED[(module, name)]
        except KeyError:
            raise UnsafePickleError(
                f"refusing to load global {module}.{name}: a state-dict file only needs tensors "
                "(allowed: collections.OrderedDict, torch._utils tensor rebuilders, torch.*Storage)"
            ) from None

    def persistent_load(self, pid: Any) -> Any:
        if self._persistent is None:
            raise UnsafePickleError(f"unexpected persistent id {pid!r} in a plain pickle")
        return self._persistent(pid)


def _restricted_load(stream: IO[bytes], persistent_load: Callable[[Any], Any] | None = None) -> Any:
    try:
        return RestrictedUnpickler(stream, persistent_load).load()
    except (TorchFileError, MemoryError):
        raise
    except Exception as exc:  # pickle raises many types on garbage: give one clear error
        raise TorchFileError(f"not a readable pickle: {type(exc).__name__}: {exc}") from exc


def _decode(value: Any) -> str:
    return value.decode("ascii") if isinstance(value, bytes) else str(value)


def _bytes_to_array(raw: bytes, storage_type: _StorageType) -> np.ndarray:
    dtype = _STORAGE_DTYPES[storage_type.name]
    if dtype == "bfloat16":
        halves = np.frombuffer(raw, dtype="<u2").astype(np.uint32)
        return (halves << 16).view(np.float32)
    return np.frombuffer(raw, dtype=dtype)


def _storage_type(value: Any) -> _StorageType:
    if not isinstance(value, _StorageType):
        raise TorchFileError(f"storage of unknown type {value!r}")
    return value


def _load_zip(path: Path) -> Any:
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
        pickles = [n for n in names if n.endswith("/data.pkl") or n == "data.pkl"]
        if len(pickles) != 1:
            raise TorchFileError(f"{path.name}: zip file without exactly one data.pkl (found {pickles})")
        root = pickles[0][: -len("data.pkl")]
        byteorder_name = f"{root}byteorder"
        if byteorder_name in names and archive.read(byteorder_name).strip() != b"little":
            raise TorchFileError(f"{path.name}: big-endian storages are not supported")
        storages: dict[str, _Storage] = {}

        def persistent_load(pid: Any) -> _Storage:
            if not isinstance(pid, tuple) or len(pid) != 5 or _decode(pid[0]) != "storage":
                raise TorchFileError(f"unexpected persistent id {pid!r}")
            _, stype, key, _location, _numel = pid
            key = _decode(key)
            if key not in storages:
                storage_type = _storage_type(stype)
                member = f"{root}data/{key}"
                try:
                    info = archive.getinfo(member)
                except KeyError:
                    raise TorchFileError(f"{path.name}: storage {member} is missing") from None
                if info.file_size > _MAX_ZIP_RATIO * info.compress_size + (1 << 20):
                    raise TorchFileError(f"{path.name}: storage {member} inflates suspiciously (zip bomb?)")
                raw = archive.read(info)
                data = _bytes_to_array(raw, storage_type)
                storages[key] = _Storage(storage_type, data.size, data)
            return storages[key]

        with archive.open(pickles[0]) as stream:
            return _restricted_load(stream, persistent_load)


def _load_legacy(path: Path) -> Any:
    size = path.stat().st_size
    with path.open("rb") as stream:
        magic = _restricted_load(stream)
        if magic != _LEGACY_MAGIC:
            raise TorchFileError(f"{path.name}: not a PyTorch file (bad magic number)")
        protocol = _restricted_load(stream)
        if protocol != _LEGACY_PROTOCOL:
            raise TorchFileError(f"{path.name}: unsupported legacy protocol {protocol!r}")
        sys_info = _restricted_load(stream)
        if isinstance(sys_info, dict) and not sys_info.get("little_endian", True):
            raise TorchFileError(f"{path.name}: big-endian storages are not supported")
        storages: dict[str, _Storage] = {}

        def persistent_load(pid: Any) -> _Storage:
            if not isinstance(pid, tuple) or len(pid) != 6 or _decode(pid[0]) != "storage":
                raise TorchFileError(f"unexpected persistent id {pid!r}")
            _, stype, root_key, _location, numel, view = pid
            root_key = _decode(root_key)
            storage_type = _storage_type(stype)
            if root_key not in storages:
                storages[root_key] = _Storage(storage_type, int(numel))
            root = storages[root_key]
            if view is None:
                return root
            _view_key, offset, view_size = view
            return _Storage(storage_type, int(view_size), root=root, offset=int(offset))

        result = _restricted_load(stream, persistent_load)
        keys = _restricted_load(stream)
        if not isinstance(keys, list):
            raise TorchFileError(f"{path.name}: storage key list missing")
        for key in keys:
            storage = storages.get(_decode(key))
            if storage is None:
                raise TorchFileError(f"{path.name}: storage {key!r} is not referenced by any tensor")
            header = stream.read(8)
            if len(header) != 8:
                raise TorchFileError(f"{path.name}: truncated before storage {key!r}")
            (numel,) = struct.unpack("<q", header)
            if numel != storage.numel:
                raise TorchFileError(
                    f"{path.name}: storage {key!r} has {numel} elements, expected {storage.numel}"
                )
            nbytes = numel * storage.storage_type.itemsize
            if nbytes < 0 or nbytes > size - stream.tell():
                raise TorchFileError(f"{path.name}: storage {key!r} is truncated")
            raw = stream.read(nbytes)
            if len(raw) != nbytes:
                raise TorchFileError(f"{path.name}: storage {key!r} is truncated")
            storage.data = _bytes_to_array(raw, storage.storage_type)
        return result


def _resolve(obj: Any) -> Any:
    if isinstance(obj, _LazyTensor):
        return obj.resolve()
    if isinstance(obj, dict):
        return collections.OrderedDict((k, _resolve(v)) for k, v in obj.items())
    return obj


def load_state_dict(path: str | Path) -> collections.OrderedDict[str, np.ndarray]:
    """Read a ``torch.save``-d state dict into an ordered ``{name: numpy array}`` mapping, without torch.

    Accepts the zip layout and the legacy stream layout (the pre-0.4 tar layout is refused). A checkpoint
    that wraps its weights (``{"state_dict": {...}}`` or ``{"model": {...}}``) is unwrapped. Raises
    :class:`UnsafePickleError` when the pickle names a global outside the allow-list and
    :class:`TorchFileError` for any other unreadable file.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no weights file at {path}")
    if zipfile.is_zipfile(path):
        obj = _load_zip(path)
    elif tarfile.is_tarfile(path):
        raise TorchFileError(f"{path.name}: the pre-0.4 tar layout of torch.save is not supported")
    else:
        obj = _load_legacy(path)
    for wrapper in ("state_dict", "model"):
        if isinstance(obj, dict) and isinstance(obj.get(wrapper), dict):
            obj = obj[wrapper]
    if not isinstance(obj, dict):
        raise TorchFileError(f"{path.name}: holds a {type(obj).__name__}, not a state dict")
    resolved: collections.OrderedDict[str, np.ndarray] = collections.OrderedDict()
    for key, value in obj.items():
        array = _resolve(value)
        if not isinstance(array, np.ndarray):
            raise TorchFileError(f"{path.name}: entry {key!r} is a {type(value).__name__}, not a tensor")
        resolved[str(key)] = array
    return resolved
