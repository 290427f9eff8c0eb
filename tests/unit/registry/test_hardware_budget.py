"""The memory-budget rule and the config's ``hardware:`` override, on hand-built profiles."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from ragged_graph.registry.hardware import (
    GpuInfo,
    HardwareOverride,
    HardwareProfile,
    MemoryBudget,
    memory_budget,
)

RTX_3090 = GpuInfo(vendor="nvidia", name="NVIDIA GeForce RTX 3090", vram_total_gb=25.77)
RX_7900 = GpuInfo(vendor="amd", name="Radeon RX 7900 XTX", vram_total_gb=25.75)
M3_MAX = GpuInfo(vendor="apple", name="Apple M3 Max", vram_total_gb=38.65)


def cpu_box(ram_gb: float = 16.0) -> HardwareProfile:
    return HardwareProfile(cpu_cores=8, ram_total_gb=ram_gb, ram_available_gb=ram_gb * 0.7)


def two_3090s() -> HardwareProfile:
    return HardwareProfile(
        cpu_cores=16,
        ram_total_gb=64.0,
        ram_available_gb=50.0,
        gpus=(RTX_3090, RTX_3090),
        accelerator="nvidia",
    )


def m3_max() -> HardwareProfile:
    return HardwareProfile(
        cpu_cores=14,
        ram_total_gb=38.65,
        gpus=(M3_MAX,),
        accelerator="apple",
        unified_memory=True,
    )


# ---------------------------------------------------------------- the rule


@pytest.mark.parametrize(
    ("ram_gb", "budget_gb"),
    [(5.0, 3.0), (8.0, 6.0), (10.0, 8.0), (16.0, 12.8), (64.0, 51.2)],
)
def test_cpu_budget_keeps_the_larger_of_2_gb_and_a_fifth(ram_gb: float, budget_gb: float) -> None:
    budget = memory_budget(cpu_box(ram_gb))
    assert budget.budget_gb == pytest.approx(budget_gb)
    assert budget.accelerator == "cpu"


def test_gpu_budget_sums_vram_less_1_gb_per_gpu() -> None:
    budget = memory_budget(two_3090s())
    assert budget.budget_gb == pytest.approx(49.54)
    assert budget.rule.startswith("2 x NVIDIA GPU VRAM 51.5 GB - 1.0 GB reserve per GPU")
    assert "placed in VRAM" in budget.rule


def test_gpu_budget_ignores_free_vram_and_loaded_models() -> None:
    busy = GpuInfo(vendor="nvidia", name="RTX 4090", vram_total_gb=25.76, vram_free_gb=0.5)
    profile = HardwareProfile(
        cpu_cores=8, ram_total_gb=32.0, gpus=(busy,), accelerator="nvidia"
    ).with_loaded_models({"qwen2.5:32b": 22.3})
    assert profile.loaded_models == {"qwen2.5:32b": 22.3}
    assert memory_budget(profile).budget_gb == pytest.approx(24.76)


def test_amd_budget_counts_only_amd_gpus() -> None:
    profile = HardwareProfile(
        cpu_cores=8, ram_total_gb=32.0, gpus=(RTX_3090, RX_7900), accelerator="amd"
    )
    budget = memory_budget(profile)
    assert budget.budget_gb == pytest.approx(24.75)
    assert budget.rule.startswith("1 x AMD GPU VRAM 25.8 GB")


def test_apple_budget_is_three_quarters_of_unified_memory_less_2_gb() -> None:
    budget = memory_budget(m3_max())
    assert budget.budget_gb == pytest.approx(38.65 * 0.75 - 2, abs=0.005)
    assert budget.accelerator == "apple"


@pytest.mark.parametrize(
    "profile",
    [
        cpu_box(1.5),
        HardwareProfile(
            cpu_cores=2,
            ram_total_gb=4.0,
            gpus=(GpuInfo(vendor="nvidia", name="GeForce GT 710", vram_total_gb=0.5),),
            accelerator="nvidia",
        ),
        HardwareProfile(
            cpu_cores=8,
            ram_total_gb=2.0,
            gpus=(GpuInfo(vendor="apple", name="Apple M1", vram_total_gb=2.0),),
            accelerator="apple",
            unified_memory=True,
        ),
    ],
    ids=["cpu", "nvidia", "apple"],
)
def test_budget_is_never_negative(profile: HardwareProfile) -> None:
    budget = memory_budget(profile)
    assert budget.budget_gb == 0
    assert "(never negative)" in budget.rule


def test_fits_compares_a_models_need_with_the_budget() -> None:
    budget = MemoryBudget(budget_gb=12.0, accelerator="cpu", rule="test")
    assert budget.fits(12.0)
    assert budget.fits(5.9)
    assert not budget.fits(12.01)


# ---------------------------------------------------------------- overrides


def test_memory_gb_override_is_the_budget_directly() -> None:
    budget = memory_budget(two_3090s(), HardwareOverride(memory_gb=12.0))
    assert budget.budget_gb == 12.0
    assert budget.accelerator == "nvidia"
    assert budget.overridden
    assert "override" in budget.rule
    assert "memory_gb = 12.0 GB" in budget.rule


def test_memory_gb_override_may_be_zero_and_needs_no_gpu() -> None:
    override = HardwareOverride(memory_gb=0, accelerator="amd")
    budget = memory_budget(cpu_box(), override)
    assert budget.budget_gb == 0
    assert budget.accelerator == "amd"


def test_vram_override_replaces_the_gpus_and_reapplies_the_rule() -> None:
    override = HardwareOverride(vram_gb=12.0)
    profile = two_3090s().with_override(override)
    assert [gpu.vram_total_gb for gpu in profile.gpus] == [12.0]
    assert profile.overrides == ("vram_gb",)
    budget = memory_budget(two_3090s(), override)
    assert budget.budget_gb == pytest.approx(11.0)
    assert budget.overridden
    assert budget.rule.startswith("override (vram_gb): 1 x NVIDIA GPU VRAM 12.0 GB")


def test_accelerator_and_vram_override_turn_a_cpu_box_into_a_gpu_machine() -> None:
    override = HardwareOverride.model_validate({"accelerator": "nvidia", "vram_gb": 24})
    budget = memory_budget(cpu_box(), override)
    assert budget.accelerator == "nvidia"
    assert budget.budget_gb == pytest.approx(23.0)
    assert budget.rule.startswith("override (accelerator, vram_gb): ")


def test_gpu_accelerator_without_a_gpu_or_vram_is_an_error() -> None:
    with pytest.raises(ValueError, match="no NVIDIA GPU was detected; also set vram_gb"):
        memory_budget(cpu_box(), HardwareOverride(accelerator="nvidia"))


def test_vram_without_a_gpu_accelerator_is_an_error() -> None:
    with pytest.raises(ValueError, match="set accelerator"):
        cpu_box().with_override(HardwareOverride(vram_gb=24))


def test_cpu_accelerator_override_budgets_from_ram() -> None:
    budget = memory_budget(two_3090s(), HardwareOverride(accelerator="cpu"))
    assert budget.accelerator == "cpu"
    assert budget.budget_gb == pytest.approx(51.2)
    assert budget.rule.startswith("override (accelerator): CPU only: RAM 64.0 GB")


def test_ram_override_replaces_ram_and_caps_available_ram() -> None:
    override = HardwareOverride(ram_gb=8.0, cpu_cores=4)
    profile = cpu_box(32.0).with_override(override)
    assert (profile.cpu_cores, profile.ram_total_gb, profile.ram_available_gb) == (4, 8.0, 8.0)
    assert profile.overrides == ("ram_gb", "cpu_cores")
    assert memory_budget(cpu_box(32.0), override).budget_gb == pytest.approx(6.0)


def test_apple_override_on_a_linux_box_uses_ram_as_unified_memory() -> None:
    override = HardwareOverride(accelerator="apple", ram_gb=36.0)
    profile = cpu_box().with_override(override)
    assert profile.unified_memory
    assert profile.gpus == (
        GpuInfo(vendor="apple", name="Apple Silicon (override)", vram_total_gb=36.0),
    )
    assert memory_budget(cpu_box(), override).budget_gb == pytest.approx(25.0)


def test_vram_override_on_apple_sets_the_unified_memory() -> None:
    profile = m3_max().with_override(HardwareOverride(vram_gb=128.0))
    assert profile.ram_total_gb == 128.0
    assert profile.gpus[0].name == "Apple M3 Max"
    assert memory_budget(profile).budget_gb == pytest.approx(94.0)
    assert memory_budget(profile).rule.startswith("override (vram_gb): Apple Silicon")


def test_overriding_only_cpu_cores_keeps_the_budget() -> None:
    budget = memory_budget(m3_max(), HardwareOverride(cpu_cores=4))
    assert budget.budget_gb == memory_budget(m3_max()).budget_gb
    assert budget.rule.startswith("override (cpu_cores): ")


def test_an_empty_override_changes_nothing() -> None:
    assert memory_budget(two_3090s(), HardwareOverride()) == memory_budget(two_3090s())
    assert two_3090s().with_override(HardwareOverride()) == two_3090s()


def test_overrides_accumulate_across_applications() -> None:
    profile = cpu_box().with_override(HardwareOverride(ram_gb=8.0))
    profile = profile.with_override(HardwareOverride(accelerator="nvidia", vram_gb=8.0))
    assert profile.overrides == ("ram_gb", "accelerator", "vram_gb")


@pytest.mark.parametrize(
    "data",
    [
        {"memory_gb": -1},
        {"vram_gb": -0.5},
        {"ram_gb": -8},
        {"cpu_cores": 0},
        {"accelerator": "tpu"},
        {"accelerator": "cpu", "vram_gb": 8},
        {"memory": 8},
    ],
    ids=["negative-memory", "negative-vram", "negative-ram", "no-cores", "tpu", "cpu-vram", "typo"],
)
def test_invalid_overrides_are_validation_errors(data: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        HardwareOverride.model_validate(data)


# ---------------------------------------------------------------- value types


def test_value_types_are_frozen_and_keyword_only() -> None:
    override = HardwareOverride(memory_gb=4.0)
    with pytest.raises(ValidationError):
        override.memory_gb = 8.0
    untyped: Any = GpuInfo
    with pytest.raises(TypeError):
        untyped("nvidia", "RTX", 24.0)


def test_profile_rejects_an_accelerator_without_its_gpus() -> None:
    with pytest.raises(ValidationError, match="needs at least one such GPU"):
        HardwareProfile(cpu_cores=4, ram_total_gb=16.0, accelerator="nvidia")
    with pytest.raises(ValidationError, match="unified memory"):
        HardwareProfile(cpu_cores=4, ram_total_gb=16.0, gpus=(M3_MAX,), accelerator="apple")


def test_profiles_are_hashable_and_equal_by_value() -> None:
    loaded = two_3090s().with_loaded_models({"llama3.1:8b": 5.9})
    assert hash(loaded) == hash(two_3090s().with_loaded_models({"llama3.1:8b": 5.9}))
    assert loaded == two_3090s().with_loaded_models({"llama3.1:8b": 5.9})
    assert loaded != two_3090s()
    assert len({loaded, two_3090s(), two_3090s()}) == 2


def test_loaded_models_reject_negative_sizes() -> None:
    with pytest.raises(ValidationError):
        cpu_box().with_loaded_models({"llama3.1:8b": -1.0})


def test_fields_carry_their_docstrings() -> None:
    for model in (GpuInfo, HardwareProfile, HardwareOverride, MemoryBudget):
        for name, info in model.model_fields.items():
            assert info.description, f"{model.__name__}.{name} has no docstring"
