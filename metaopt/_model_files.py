"""Model files as plain data (loading runs no code): JSON settings, and for networks a
JSON body and safetensors weights that vouch for each other, so that a file changed
after saving is refused.

The JSON file of a network holds ``{"body": ..., "weights_sha256": ...}``; the weights' safetensors
metadata holds the SHA-256 of the JSON body. Written by hand: safetensors checks the
layout of a file, not whether its numbers or its companion settings were changed.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import load_file, save

from metaopt._files import temp_beside
from metaopt._mf_version import (
    LEGACY_MF_VERSION,
    MF_VERSION_KEY,
    MetaFeaturesVersionWarning,
    current_metafeatures_version,
)
from metaopt._warnings import warn


def training_machine() -> dict[str, Any]:
    """What a model card records of the machine that trained it: a meta-model retrained
    with the same command reproduces its weights only where torch's float kernels round
    alike (the CPU and torch's kernel level, not only the OS)."""
    cpu = platform.processor()
    try:
        with open("/proc/cpuinfo") as info:
            cpu = next((line.split(":", 1)[1].strip() for line in info
                        if line.startswith("model name")), cpu)
    except OSError:
        pass
    return {"platform": platform.platform(), "python": platform.python_version(),
            "cpu": cpu or "unknown", "torch": torch.__version__,
            "torch_cpu_capability": torch.backends.cpu.get_cpu_capability(),
            "torch_threads": torch.get_num_threads()}


def describe_machine(machine: dict[str, Any]) -> str:
    """One line of a card: ``machine`` as :func:`training_machine` records it."""
    return (f"{machine['platform']} (Python {machine['python']}; CPU {machine['cpu']}, torch "
            f"{machine['torch']} with {machine['torch_cpu_capability']} kernels on "
            f"{machine['torch_threads']} thread(s))")


def _plain(value: Any) -> Any:
    """A numpy number or array as the Python value JSON takes (e.g. a setting from a
    sweep over ``np.arange``)."""
    if isinstance(value, (np.generic, np.ndarray)):
        return value.tolist()
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def dumps(data: Any, **kwargs: Any) -> str:
    """``json.dumps`` that writes numpy numbers and arrays as plain numbers and lists."""
    return json.dumps(data, default=_plain, **kwargs)


def _body_text(body: dict[str, Any]) -> str:
    return dumps(body, indent=1, sort_keys=True)


def sha256(data: bytes) -> str:
    """The SHA-256 of ``data`` as hex digits."""
    return hashlib.sha256(data).hexdigest()


def write_files(files: dict[Path, bytes]) -> None:
    """Write each file's bytes to a temporary file next to it, then rename them all: an
    interrupted save leaves the earlier files whole (or, between two renames, a pair
    whose checksums do not match), never a half-written file."""
    temps: dict[Path, str] = {}
    try:
        for path, data in files.items():
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, temps[path] = temp_beside(path)
            with os.fdopen(fd, "wb") as f:
                f.write(data)
        for path, tmp in temps.items():
            os.replace(tmp, path)
    finally:
        for tmp in temps.values():
            if os.path.exists(tmp):
                os.remove(tmp)


def file_pair(path: str | Path) -> tuple[Path, Path]:
    """``<path>.json`` and ``<path>.safetensors``: a ``.json`` or ``.safetensors`` ending of
    ``path`` is taken off, any other dot stays part of the name."""
    path = Path(path)
    if path.suffix in (".json", ".safetensors"):
        path = path.with_suffix("")
    return path.with_name(path.name + ".json"), path.with_name(path.name + ".safetensors")


def read_json(path: str | Path, what: str) -> dict[str, Any]:
    """The JSON object in ``path``; ``ValueError`` naming ``what`` if it is missing,
    unreadable or not an object."""
    try:
        data = json.loads(Path(path).read_text())
    except FileNotFoundError as exc:
        raise ValueError(f"no metaopt {what} at {path}") from exc
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"cannot read metaopt {what} {path}: {exc}") from exc
    if not isinstance(data, dict):
        raise ValueError(f"{path} is not a metaopt {what} file (a JSON {type(data).__name__})")
    return data


def _body_of(record: dict[str, Any], json_path: Path, what: str) -> dict[str, Any]:
    body = record.get("body")
    if not isinstance(body, dict):
        raise ValueError(f"{json_path} is not a metaopt {what} file (no settings body)")
    return body


def read_body(json_path: Path, what: str) -> dict[str, Any]:
    """The settings body of a JSON file written by :func:`save_checked` (unchecked: what
    :func:`load_checked` verifies against the weights)."""
    return _body_of(read_json(json_path, what), json_path, what)


def save_checked(json_path: Path, weights_path: Path, body: dict[str, Any],
                 tensors: dict[str, torch.Tensor]) -> None:
    """Write ``tensors`` to ``weights_path`` and ``body`` (with ``body["format"]``) to
    ``json_path``, each recording the other's checksum (see :func:`write_files`)."""
    weights = save({k: v.detach().cpu().contiguous() for k, v in tensors.items()},
                   metadata={"format": str(body["format"]),
                             "json_sha256": sha256(_body_text(body).encode())})
    record = {"body": body, "weights_sha256": sha256(weights)}
    write_files({weights_path: weights,
                 json_path: (dumps(record, indent=1, sort_keys=True) + "\n").encode()})


def load_checked(json_path: Path, weights_path: Path, fmt: str,
                 what: str) -> tuple[dict[str, Any], dict[str, torch.Tensor]]:
    """The body and tensors written by :func:`save_checked` in format ``fmt``.

    Raises ``ValueError`` (naming ``what``, e.g. "ranker") for missing or unreadable
    files, another format or version, checksums that no longer match and weights that
    are not finite.
    """
    if json_path.is_file() != weights_path.is_file():
        if json_path.is_file():  # another kind of JSON file is named as such
            read_body(json_path, what)
        missing, kept = ((json_path, weights_path) if weights_path.is_file()
                         else (weights_path, json_path))
        raise ValueError(f"{missing} is missing beside {kept.name}: the two files are one "
                         f"{what} (settings and weights): copy both, or save it again")
    if not json_path.is_file():
        raise ValueError(f"no metaopt {what} at {json_path.with_suffix('')} (expected "
                         f"{json_path.name} and {weights_path.name})")
    record = read_json(json_path, what)
    body = _body_of(record, json_path, what)
    found = body.get("format")
    if found != fmt:
        raise ValueError(f"{json_path} is not a {fmt} file (format {found!r}, written by "
                         f"metaopt {body.get('metaopt_version')!r}): another metaopt "
                         f"version wrote it; retrain or reinstall that version")
    if record.get("weights_sha256") != sha256(weights_path.read_bytes()):
        raise ValueError(f"{weights_path} does not match {json_path} (SHA-256 mismatch): the "
                         "weights were changed or replaced after saving; refusing to load")
    try:
        tensors = load_file(str(weights_path))
        with safe_open(str(weights_path), "pt") as f:
            meta = f.metadata() or {}
    except (SafetensorError, OSError, ValueError) as exc:
        raise ValueError(f"cannot read {what} weights {weights_path}: {exc}") from exc
    if meta.get("json_sha256") != sha256(_body_text(body).encode()):
        raise ValueError(f"{json_path} does not match {weights_path} (SHA-256 mismatch): the "
                         "settings were changed after saving; refusing to load")
    bad = [k for k, v in tensors.items() if v.is_floating_point() and not v.isfinite().all()]
    if bad:
        raise ValueError(f"{weights_path} holds non-finite weights ({', '.join(bad[:3])})")
    return body, tensors


def member_state(tensors: dict[str, torch.Tensor], prefix: str, n: int,
                 source: Path) -> list[dict[str, torch.Tensor]]:
    """The state dicts of members ``{prefix}0.`` .. ``{prefix}{n-1}.``; refuses weights
    that hold other members."""
    found = {k[len(prefix):].split(".", 1)[0] for k in tensors if k.startswith(prefix)}
    if found != {str(i) for i in range(n)}:
        raise ValueError(f"{source} holds {len(found)} {prefix} network(s), its settings "
                         f"{n}: the files do not belong together")
    return [{k[len(f"{prefix}{i}."):]: v for k, v in tensors.items()
             if k.startswith(f"{prefix}{i}.")} for i in range(n)]


# ---------------------------------------------------------------- meta-features version
def fitted_metafeatures_version(data: Any) -> int:
    """The ``METAFEATURES_VERSION`` of the meta-features a model fitted on ``data`` (a
    ``PerformanceMatrix``, or knowledge-base rows) learns from: the knowledge base's, which
    ``KnowledgeBase.to_frame()`` puts in ``attrs["metafeatures_version"]`` and pandas
    carries into its rows and the matrix's ``tasks``; this metaopt's for a frame that does
    not say (meta-features computed by the user, or none)."""
    frame = data if hasattr(data, "attrs") else getattr(data, "tasks", None)
    version = getattr(frame, "attrs", {}).get(MF_VERSION_KEY)
    return current_metafeatures_version() if version is None else int(version)


def read_metafeatures_version(data: dict[str, Any], path: Path | str, what: str) -> int:
    """The ``METAFEATURES_VERSION`` a saved model's ``data`` records (a file that does
    not say, as the shipped models', holds ``LEGACY_MF_VERSION``). ``ValueError`` if it
    is not a version."""
    version = data.get(MF_VERSION_KEY, LEGACY_MF_VERSION)
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise ValueError(f"{path} is not a readable metaopt {what}: its "
                         f"{MF_VERSION_KEY} is {version!r}, not a version number")
    return version


def warn_metafeatures_version(version: int, path: Path | str, what: str) -> None:
    """``MetaFeaturesVersionWarning`` when the saved ``what`` at ``path`` was trained on
    meta-features of another version than this metaopt computes for a dataset."""
    current = current_metafeatures_version()
    if version == current:
        return
    warn(
        f"the {what} at {path} was trained on meta-features of version {version}, this "
        f"metaopt computes version {current} (metaopt.metafeatures.METAFEATURES_VERSION): "
        "it compares a dataset's meta-features with its training datasets' under two "
        "definitions. Retrain it on a knowledge base rebuilt with this metaopt (metaopt "
        "build-kb into a new store, then metaopt train-meta-model), or use the metaopt "
        f"whose meta-features are of version {version}",
        MetaFeaturesVersionWarning)
