"""Hardware detection fed with recorded tool outputs, and once on this machine for real."""

from __future__ import annotations

import logging
import platform
import shutil
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from ragged_graph.errors import HardwareDetectionError
from ragged_graph.registry.hardware import (
    DEFAULT_TIMEOUT_S,
    HardwareProfile,
    PlatformFacts,
    SubprocessRunner,
    detect_hardware,
    memory_budget,
    parse_meminfo,
    parse_nvidia_smi,
    parse_rocm_smi,
    parse_vm_stat,
)

FIXTURES = Path(__file__).parent / "fixtures" / "hardware"

NVIDIA_SMI = (
    "nvidia-smi",
    "--query-gpu=name,memory.total,memory.free",
    "--format=csv,noheader,nounits",
)
ROCM_MEMINFO = ("rocm-smi", "--showmeminfo", "vram", "--json")
ROCM_PRODUCTNAME = ("rocm-smi", "--showproductname", "--json")

LINUX = PlatformFacts(system="Linux", machine="x86_64", cpu_count=16)
MAC_ARM = PlatformFacts(system="Darwin", machine="arm64", cpu_count=12)


def fixture(name: str) -> str:
    return (FIXTURES / name).read_text(encoding="utf-8")


@dataclass
class FakeRunner:
    """Answers each command with a recorded output; None (tool missing) for anything else."""

    outputs: Mapping[tuple[str, ...], str | None] = field(default_factory=dict)
    calls: list[tuple[tuple[str, ...], float]] = field(default_factory=list)

    def run(self, argv: Sequence[str], timeout: float) -> str | None:
        self.calls.append((tuple(argv), timeout))
        return self.outputs.get(tuple(argv))


def linux_machine(
    meminfo: str = "proc_meminfo_16gb.txt",
    outputs: Mapping[tuple[str, ...], str | None] | None = None,
) -> dict[str, Any]:
    """detect_hardware arguments for a Linux machine with the given recorded outputs."""
    text = fixture(meminfo)
    return {
        "runner": FakeRunner(dict(outputs or {})),
        "read_meminfo": lambda: text,
        "platform_facts": LINUX,
    }


def mac_machine(directory: str, facts: PlatformFacts = MAC_ARM) -> dict[str, Any]:
    """detect_hardware arguments for a Mac whose sysctl and vm_stat outputs are recorded."""
    outputs: dict[tuple[str, ...], str | None] = {
        ("sysctl", "-n", name): fixture(f"{directory}/sysctl_{name}.txt")
        for name in ("hw.memsize", "hw.ncpu", "machdep.cpu.brand_string")
    }
    outputs[("vm_stat",)] = fixture(f"{directory}/vm_stat.txt")
    return {
        "runner": FakeRunner(outputs),
        "read_meminfo": lambda: pytest.fail("a Mac has no /proc/meminfo"),
        "platform_facts": facts,
    }


# ---------------------------------------------------------------- parsers


def test_parse_nvidia_smi_reads_one_rtx_4090() -> None:
    (gpu,) = parse_nvidia_smi(fixture("nvidia_smi_rtx4090.csv"))
    assert gpu.vendor == "nvidia"
    assert gpu.name == "NVIDIA GeForce RTX 4090"
    assert gpu.vram_total_gb == pytest.approx(25.76)  # 24564 MiB in decimal GB
    assert gpu.vram_free_gb == pytest.approx(24.66)


def test_parse_nvidia_smi_reads_unknown_free_memory_as_none() -> None:
    (gpu,) = parse_nvidia_smi("GRID A100-40C, 40960, [N/A]\n")
    assert gpu.vram_total_gb == pytest.approx(42.95)
    assert gpu.vram_free_gb is None


def test_parse_nvidia_smi_of_nothing_is_no_gpu() -> None:
    assert parse_nvidia_smi("\n") == ()


@pytest.mark.parametrize(
    "text",
    [
        fixture("nvidia_smi_malformed.txt"),
        "NVIDIA GeForce RTX 4090, [N/A], 100\n",
        "NVIDIA GeForce RTX 4090, -24564, 100\n",
        "NVIDIA GeForce RTX 4090, nan, 100\n",
        "NVIDIA GeForce RTX 4090, 24564\n",
        "name, memory.total [MiB], memory.free [MiB]\nNVIDIA GeForce RTX 4090, 24564, 23517\n",
    ],
    ids=["driver-mismatch", "total-na", "negative", "nan", "two-fields", "with-header"],
)
def test_parse_nvidia_smi_rejects_malformed_output(text: str) -> None:
    with pytest.raises(HardwareDetectionError, match="nvidia-smi"):
        parse_nvidia_smi(text)


def test_parse_rocm_smi_names_the_card_and_skips_the_integrated_gpu() -> None:
    (gpu,) = parse_rocm_smi(
        fixture("rocm_smi_showmeminfo_vram_rx7900xtx.json"),
        fixture("rocm_smi_showproductname_rx7900xtx.json"),
    )
    assert gpu.vendor == "amd"
    assert gpu.name == "Radeon RX 7900 XTX"
    assert gpu.vram_total_gb == pytest.approx(25.75)
    assert gpu.vram_free_gb == pytest.approx(24.63)


def test_parse_rocm_smi_reads_older_key_spelling_and_a_warning_preamble() -> None:
    meminfo = (
        "WARNING: AMD GPU device(s) is/are in a low-power state.\n"
        '{"card1": {"VRAM Total Memory (B)": "68702699520",'
        ' "VRAM Total Used Memory (B)": "0"},'
        ' "card0": {"VRAM Total Memory (B)": "68702699520",'
        ' "VRAM Total Used Memory (B)": "10960896"},'
        ' "system": {"Driver version": "6.7.0"}}'
    )
    names = (
        '{"card0": {"Card series": "Instinct MI210"}, "card1": {"Card series": "Instinct MI210"}}'
    )
    gpus = parse_rocm_smi(meminfo, names)
    assert [gpu.name for gpu in gpus] == ["Instinct MI210", "Instinct MI210"]
    assert [gpu.vram_free_gb for gpu in gpus] == pytest.approx([68.69, 68.7])


def test_parse_rocm_smi_without_product_names_still_finds_the_gpu() -> None:
    (gpu,) = parse_rocm_smi(fixture("rocm_smi_showmeminfo_vram_rx7900xtx.json"), None)
    assert gpu.name == "AMD GPU (card0)"


@pytest.mark.parametrize(
    "text",
    [
        "rocm-smi: command failed",
        "[1, 2]",
        '{"card0": {"VRAM Total Used Memory (B)": "1"}}',
        '{"card0": {"VRAM Total Memory (B)": "lots"}}',
        '{"card0": "N/A"}',
    ],
)
def test_parse_rocm_smi_rejects_malformed_output(text: str) -> None:
    with pytest.raises(HardwareDetectionError, match="rocm-smi"):
        parse_rocm_smi(text)


def test_parse_meminfo_estimates_available_ram_on_old_kernels() -> None:
    ram = parse_meminfo(
        "MemTotal:  8029736 kB\nMemFree:  1000000 kB\nBuffers:  100000 kB\nCached:  900000 kB\n"
    )
    assert ram.total_gb == pytest.approx(8.22)
    assert ram.available_gb == pytest.approx(2.05)  # (1000000 + 100000 + 900000) KiB


def test_parse_meminfo_rejects_text_without_a_total() -> None:
    with pytest.raises(HardwareDetectionError, match="MemTotal"):
        parse_meminfo("MemFree: 12 kB\n")


def test_parse_vm_stat_counts_free_and_inactive_pages() -> None:
    assert parse_vm_stat(fixture("apple_m3_max_36gb/vm_stat.txt")) == (61503 + 781236) * 16384


def test_parse_vm_stat_rejects_unknown_output() -> None:
    with pytest.raises(HardwareDetectionError, match="vm_stat"):
        parse_vm_stat("vm_stat: permission denied\n")


# ---------------------------------------------------------------- recorded machines


@dataclass(frozen=True)
class Machine:
    id: str
    detect_args: dict[str, Any]
    accelerator: str
    cpu_cores: int
    ram_total_gb: float
    ram_available_gb: float
    gpu_names: tuple[str, ...]
    vram_total_gb: tuple[float, ...]
    budget_gb: float
    rule: str


MACHINES = [
    Machine(
        "cpu-8gb",
        linux_machine("proc_meminfo_8gb.txt"),
        "cpu",
        16,
        8.22,
        5.44,
        (),
        (),
        6.22,
        "CPU only: RAM 8.2 GB - 2.0 GB reserve (the larger of 2.0 GB and 20% of RAM) = 6.2 GB",
    ),
    Machine(
        "cpu-16gb",
        linux_machine("proc_meminfo_16gb.txt"),
        "cpu",
        16,
        16.71,
        12.09,
        (),
        (),
        13.37,
        "CPU only: RAM 16.7 GB - 3.3 GB reserve",
    ),
    Machine(
        "cpu-32gb",
        linux_machine("proc_meminfo_32gb.txt"),
        "cpu",
        16,
        33.57,
        28.07,
        (),
        (),
        26.86,
        "CPU only: RAM 33.6 GB - 6.7 GB reserve",
    ),
    Machine(
        "nvidia-rtx4090",
        linux_machine("proc_meminfo_32gb.txt", {NVIDIA_SMI: fixture("nvidia_smi_rtx4090.csv")}),
        "nvidia",
        16,
        33.57,
        28.07,
        ("NVIDIA GeForce RTX 4090",),
        (25.76,),
        24.76,
        "1 x NVIDIA GPU VRAM 25.8 GB - 1.0 GB reserve per GPU = 24.8 GB; models are placed in VRAM",
    ),
    Machine(
        "nvidia-2x-rtx3090",
        linux_machine("proc_meminfo_32gb.txt", {NVIDIA_SMI: fixture("nvidia_smi_2x_rtx3090.csv")}),
        "nvidia",
        16,
        33.57,
        28.07,
        ("NVIDIA GeForce RTX 3090", "NVIDIA GeForce RTX 3090"),
        (25.77, 25.77),
        49.54,
        "2 x NVIDIA GPU VRAM 51.5 GB - 1.0 GB reserve per GPU = 49.5 GB",
    ),
    Machine(
        "nvidia-2x-a6000",
        linux_machine("proc_meminfo_32gb.txt", {NVIDIA_SMI: fixture("nvidia_smi_2x_a6000.csv")}),
        "nvidia",
        16,
        33.57,
        28.07,
        ("NVIDIA RTX A6000", "NVIDIA RTX A6000"),
        (51.53, 51.53),
        101.06,
        "2 x NVIDIA GPU VRAM 103.1 GB - 1.0 GB reserve per GPU = 101.1 GB",
    ),
    Machine(
        "amd-rx7900xtx",
        linux_machine(
            "proc_meminfo_32gb.txt",
            {
                ROCM_MEMINFO: fixture("rocm_smi_showmeminfo_vram_rx7900xtx.json"),
                ROCM_PRODUCTNAME: fixture("rocm_smi_showproductname_rx7900xtx.json"),
            },
        ),
        "amd",
        16,
        33.57,
        28.07,
        ("Radeon RX 7900 XTX",),
        (25.75,),
        24.75,
        "1 x AMD GPU VRAM 25.8 GB - 1.0 GB reserve per GPU = 24.8 GB; models are placed in VRAM",
    ),
    Machine(
        "apple-m3-max-36gb",
        mac_machine("apple_m3_max_36gb"),
        "apple",
        14,
        38.65,
        13.81,
        ("Apple M3 Max",),
        (38.65,),
        26.99,
        "Apple Silicon unified memory 38.6 GB x 75% GPU share - 2.0 GB reserve = 27.0 GB",
    ),
    Machine(
        "apple-m2-ultra-128gb",
        mac_machine("apple_m2_ultra_128gb"),
        "apple",
        24,
        137.44,
        96.12,
        ("Apple M2 Ultra",),
        (137.44,),
        101.08,
        "Apple Silicon unified memory 137.4 GB x 75% GPU share - 2.0 GB reserve = 101.1 GB",
    ),
]


@pytest.mark.parametrize("machine", MACHINES, ids=[m.id for m in MACHINES])
def test_detects_recorded_machine_and_its_budget(machine: Machine) -> None:
    profile = detect_hardware(**machine.detect_args)
    assert profile.accelerator == machine.accelerator
    assert profile.unified_memory is (machine.accelerator == "apple")
    assert profile.cpu_cores == machine.cpu_cores
    assert profile.ram_total_gb == pytest.approx(machine.ram_total_gb)
    assert profile.ram_available_gb == pytest.approx(machine.ram_available_gb)
    assert tuple(gpu.name for gpu in profile.gpus) == machine.gpu_names
    assert tuple(gpu.vram_total_gb for gpu in profile.gpus) == pytest.approx(machine.vram_total_gb)
    assert profile.loaded_models == {}
    assert profile.overrides == ()

    budget = memory_budget(profile)
    assert budget.budget_gb == pytest.approx(machine.budget_gb, abs=0.005)
    assert budget.accelerator == machine.accelerator
    assert machine.rule in budget.rule
    assert not budget.overridden


def test_every_tool_runs_with_the_default_timeout() -> None:
    args = linux_machine()
    detect_hardware(**args)
    assert {argv for argv, _ in args["runner"].calls} == {NVIDIA_SMI, ROCM_MEMINFO}
    assert {timeout for _, timeout in args["runner"].calls} == {DEFAULT_TIMEOUT_S}


def test_missing_tools_leave_a_cpu_profile_without_warnings(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING):
        profile = detect_hardware(**linux_machine("proc_meminfo_8gb.txt"))
    assert profile.accelerator == "cpu"
    assert profile.gpus == ()
    assert caplog.records == []


def test_malformed_nvidia_smi_output_is_ignored_with_a_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    args = linux_machine(outputs={NVIDIA_SMI: fixture("nvidia_smi_malformed.txt")})
    with caplog.at_level(logging.WARNING):
        profile = detect_hardware(**args)
    assert profile.accelerator == "cpu"
    assert profile.gpus == ()
    assert "nvidia-smi" in caplog.text
    assert memory_budget(profile).budget_gb == pytest.approx(13.37, abs=0.005)


def test_malformed_nvidia_smi_output_leaves_the_amd_gpu_in_use(
    caplog: pytest.LogCaptureFixture,
) -> None:
    args = linux_machine(
        outputs={
            NVIDIA_SMI: "NVIDIA GeForce RTX 4090, ERR!, ERR!\n",
            ROCM_MEMINFO: fixture("rocm_smi_showmeminfo_vram_rx7900xtx.json"),
        }
    )
    with caplog.at_level(logging.WARNING):
        profile = detect_hardware(**args)
    assert profile.accelerator == "amd"
    assert "ignoring NVIDIA GPUs" in caplog.text


def test_malformed_rocm_smi_output_is_ignored_with_a_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    args = linux_machine(outputs={ROCM_MEMINFO: "Traceback (most recent call last):\n ..."})
    with caplog.at_level(logging.WARNING):
        profile = detect_hardware(**args)
    assert profile.accelerator == "cpu"
    assert "rocm-smi" in caplog.text


def test_nvidia_is_preferred_when_both_vendors_are_present() -> None:
    args = linux_machine(
        outputs={
            NVIDIA_SMI: fixture("nvidia_smi_rtx4090.csv"),
            ROCM_MEMINFO: fixture("rocm_smi_showmeminfo_vram_rx7900xtx.json"),
        }
    )
    profile = detect_hardware(**args)
    assert profile.accelerator == "nvidia"
    assert [gpu.vendor for gpu in profile.gpus] == ["nvidia", "amd"]
    assert memory_budget(profile).budget_gb == pytest.approx(24.76)


def test_unreadable_meminfo_gives_zero_ram_and_a_zero_budget(
    caplog: pytest.LogCaptureFixture,
) -> None:
    args = linux_machine()
    args["read_meminfo"] = lambda: "garbage"
    with caplog.at_level(logging.WARNING):
        profile = detect_hardware(**args)
    assert profile.ram_total_gb == 0
    assert profile.ram_available_gb is None
    assert "MemTotal" in caplog.text
    budget = memory_budget(profile)
    assert budget.budget_gb == 0
    assert "never negative" in budget.rule


def test_windows_without_ram_facts_still_reads_nvidia_vram(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING):
        profile = detect_hardware(
            runner=FakeRunner({NVIDIA_SMI: fixture("nvidia_smi_rtx4090.csv")}),
            read_meminfo=lambda: None,
            platform_facts=PlatformFacts(system="Windows", machine="AMD64", cpu_count=8),
        )
    assert profile.ram_total_gb == 0
    assert "hardware.ram_gb" in caplog.text
    assert memory_budget(profile).budget_gb == pytest.approx(24.76)


def test_mac_without_vm_stat_has_unknown_available_ram() -> None:
    args = mac_machine("apple_m3_max_36gb")
    args["runner"] = FakeRunner(
        {k: v for k, v in args["runner"].outputs.items() if k != ("vm_stat",)}
    )
    profile = detect_hardware(**args)
    assert profile.ram_available_gb is None
    assert profile.accelerator == "apple"


def test_mac_with_garbled_memsize_falls_back_to_cpu(caplog: pytest.LogCaptureFixture) -> None:
    args = mac_machine("apple_m3_max_36gb")
    outputs = dict(args["runner"].outputs)
    outputs[("sysctl", "-n", "hw.memsize")] = "sysctl: unknown oid 'hw.memsize'"
    args["runner"] = FakeRunner(outputs)
    with caplog.at_level(logging.WARNING):
        profile = detect_hardware(**args)
    assert profile.accelerator == "cpu"
    assert profile.ram_total_gb == 0
    assert "hw.memsize" in caplog.text


def test_intel_mac_runs_models_on_the_cpu() -> None:
    args = mac_machine(
        "apple_m3_max_36gb", PlatformFacts(system="Darwin", machine="x86_64", cpu_count=8)
    )
    profile = detect_hardware(**args)
    assert profile.accelerator == "cpu"
    assert profile.unified_memory is False


def test_python_under_rosetta_still_finds_apple_silicon() -> None:
    args = mac_machine(
        "apple_m3_max_36gb", PlatformFacts(system="Darwin", machine="x86_64", cpu_count=8)
    )
    outputs = dict(args["runner"].outputs)
    outputs[("sysctl", "-n", "hw.optional.arm64")] = "1\n"
    args["runner"] = FakeRunner(outputs)
    assert detect_hardware(**args).accelerator == "apple"


def test_mac_without_brand_string_is_named_apple_silicon() -> None:
    args = mac_machine("apple_m2_ultra_128gb")
    outputs = dict(args["runner"].outputs)
    del outputs[("sysctl", "-n", "machdep.cpu.brand_string")]
    args["runner"] = FakeRunner(outputs)
    (gpu,) = detect_hardware(**args).gpus
    assert gpu.name == "Apple Silicon"


# ---------------------------------------------------------------- real tools


def test_subprocess_runner_returns_output_or_none() -> None:
    runner = SubprocessRunner()
    assert runner.run([sys.executable, "-c", "print('ok')"], 5.0) == "ok\n"
    assert runner.run([sys.executable, "-c", "raise SystemExit(3)"], 5.0) is None
    assert runner.run(["ragged-graph-no-such-tool"], 5.0) is None
    assert runner.run([], 5.0) is None


def test_subprocess_runner_gives_up_after_the_timeout() -> None:
    runner = SubprocessRunner()
    assert runner.run([sys.executable, "-c", "import time; time.sleep(10)"], 0.3) is None


def test_real_detection_on_this_machine() -> None:
    profile = detect_hardware()
    assert isinstance(profile, HardwareProfile)
    assert 1 <= profile.cpu_cores <= 4096
    assert 0.5 <= profile.ram_total_gb <= 100_000
    if profile.ram_available_gb is not None:
        assert 0 < profile.ram_available_gb <= profile.ram_total_gb
    no_gpu_tools = shutil.which("nvidia-smi") is None and shutil.which("rocm-smi") is None
    if platform.system() == "Linux" and no_gpu_tools:
        assert profile.accelerator == "cpu"
        assert profile.gpus == ()
        budget = memory_budget(profile)
        assert 0 < budget.budget_gb < profile.ram_total_gb
        assert budget.rule.startswith("CPU only")
