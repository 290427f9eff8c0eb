"""AMD GPUs, from ``rocm-smi``'s JSON output."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Mapping
from typing import Any

from ragged_graph.errors import HardwareDetectionError
from ragged_graph.registry.hardware.profile import GpuInfo, bytes_to_gb
from ragged_graph.registry.hardware.runner import CommandRunner

__all__ = [
    "AMD_IGPU_MAX_BYTES",
    "ROCM_SMI_MEMINFO_ARGV",
    "ROCM_SMI_PRODUCTNAME_ARGV",
    "parse_rocm_smi",
    "probe_amd",
]

logger = logging.getLogger(__name__)

ROCM_SMI_MEMINFO_ARGV = ("rocm-smi", "--showmeminfo", "vram", "--json")
"""VRAM per card in bytes: ``{"card0": {"VRAM Total Memory (B)": "...", ...}}``."""

ROCM_SMI_PRODUCTNAME_ARGV = ("rocm-smi", "--showproductname", "--json")
"""Product names per card: ``{"card0": {"Card Series": "...", ...}}``."""

AMD_IGPU_MAX_BYTES = 1024**3
"""Cards reporting less VRAM than this (1 GiB) are integrated GPUs' carve-outs and are
skipped, as Ollama itself skips them."""

_CARD = re.compile(r"^card(\d+)$")
_TOTAL_KEY = "vram total memory (b)"
_USED_KEY = "vram total used memory (b)"
_NAME_KEYS = ("card series", "card model")


def _load_cards(text: str, what: str) -> dict[str, dict[str, Any]]:
    """The ``cardN`` objects of a rocm-smi JSON answer, keys lower-cased, in card order."""
    try:
        data = json.loads(text)
    except ValueError:
        # Some versions print warnings before the JSON object.
        start, end = text.find("{"), text.rfind("}")
        try:
            data = json.loads(text[start : end + 1]) if 0 <= start < end else None
        except ValueError:
            data = None
    if not isinstance(data, Mapping):
        raise HardwareDetectionError(f"rocm-smi {what} output is not a JSON object")
    numbered = []
    for key, entry in data.items():
        match = _CARD.match(str(key))
        if match is None:
            continue  # e.g. "system"
        if not isinstance(entry, Mapping):
            raise HardwareDetectionError(f"rocm-smi {what} entry {key!r} is not an object")
        fields = {str(k).strip().lower(): v for k, v in entry.items()}
        numbered.append((int(match[1]), str(key), fields))
    return {key: fields for _, key, fields in sorted(numbered)}


def _bytes(entry: Mapping[str, Any], key: str, card: str) -> int:
    value = entry.get(key)
    try:
        number = int(str(value).strip())
    except ValueError:
        raise HardwareDetectionError(
            f"rocm-smi reports {key!r} of {card} as {value!r}, not a byte count"
        ) from None
    if number < 0:
        raise HardwareDetectionError(f"rocm-smi reports negative {key!r} for {card}")
    return number


def _names(productname: str | None) -> dict[str, str]:
    if productname is None:
        return {}
    try:
        cards = _load_cards(productname, "--showproductname")
    except HardwareDetectionError as exc:
        logger.warning("ignoring AMD product names: %s", exc.message)
        return {}
    names = {}
    for card, entry in cards.items():
        for key in _NAME_KEYS:
            value = str(entry.get(key) or "").strip()
            if value and value.lower() not in {"n/a", "unknown"}:
                names[card] = value
                break
    return names


def parse_rocm_smi(meminfo: str, productname: str | None = None) -> tuple[GpuInfo, ...]:
    """AMD GPUs from :data:`ROCM_SMI_MEMINFO_ARGV` output, named from the product-name output.

    Cards with less than :data:`AMD_IGPU_MAX_BYTES` of VRAM are integrated GPUs and skipped.
    Unreadable product names only cost the names.

    Raises:
        HardwareDetectionError: the memory output is not rocm-smi's JSON or lacks a card's
            total VRAM.
    """
    cards = _load_cards(meminfo, "--showmeminfo")
    names = _names(productname)
    gpus = []
    for card, entry in cards.items():
        if _TOTAL_KEY not in entry:
            raise HardwareDetectionError(f"rocm-smi does not report the total VRAM of {card}")
        total = _bytes(entry, _TOTAL_KEY, card)
        if total < AMD_IGPU_MAX_BYTES:
            logger.debug("skipping %s: %d bytes of VRAM is an integrated GPU", card, total)
            continue
        free: float | None = None
        if _USED_KEY in entry:
            free = bytes_to_gb(max(total - _bytes(entry, _USED_KEY, card), 0))
        gpus.append(
            GpuInfo(
                vendor="amd",
                name=names.get(card, f"AMD GPU ({card})"),
                vram_total_gb=bytes_to_gb(total),
                vram_free_gb=free,
            )
        )
    return tuple(gpus)


def probe_amd(runner: CommandRunner, timeout: float) -> tuple[GpuInfo, ...]:
    """AMD GPUs; none when ``rocm-smi`` is missing, fails, or answers with garbage."""
    meminfo = runner.run(ROCM_SMI_MEMINFO_ARGV, timeout)
    if meminfo is None:
        return ()
    try:
        return parse_rocm_smi(meminfo, runner.run(ROCM_SMI_PRODUCTNAME_ARGV, timeout))
    except HardwareDetectionError as exc:
        logger.warning("ignoring AMD GPUs: unreadable rocm-smi output: %s", exc.message)
        return ()
