"""The wording helpers of error messages."""

from ldnn_tune.cli import _beyond_limits
from ldnn_tune.errors import PluginError, number_ranges, out_of_memory


def test_number_ranges_join_consecutive_numbers_in_order() -> None:
    assert number_ranges([9, 0, 1, 2, 7, 3, 4, 10, 12, 11]) == "0-4, 7, 9-12"
    assert number_ranges([5, 5]) == "5"
    assert number_ranges([]) == ""


def test_torch_s_cpu_allocation_failure_is_out_of_memory() -> None:
    # a net far too big for the machine: torch raises a RuntimeError, no MemoryError
    failure = RuntimeError("[enforce fail at alloc_cpu.cpp:127] err == 0")
    wrapped = PluginError.raised("image", "(local)", "model()", failure)
    wrapped.__cause__ = failure
    assert out_of_memory(wrapped) is failure
    assert out_of_memory(RuntimeError("mat1 and mat2 shapes cannot be multiplied")) is None


def test_out_of_memory_names_the_space_file_when_it_set_the_sizes() -> None:
    failure = RuntimeError("DefaultCPUAllocator: can't allocate memory: you tried 99 GB")
    line = _beyond_limits(failure, ["task=image", "space=big.yaml"], "failed")
    assert line == (
        "error: failed; not enough memory for the sizes space=big.yaml allows: lower them"
    )
    line = _beyond_limits(failure, ["task=image"], "failed")
    assert line == "error: failed; not enough memory for the task's default sizes on this machine"


def test_a_size_past_any_array_is_out_of_memory_at_the_sizes_given() -> None:
    # bits=99999999999999999999: numpy refuses the shape before asking for memory (audit)
    failure = ValueError("Maximum allowed dimension exceeded")
    line = _beyond_limits(failure, ["task=sequence", "bits=99999999999999999999"], "failed")
    assert line == (
        "error: failed; not enough memory for the sizes given (bits=99999999999999999999): "
        "lower them"
    )
    assert out_of_memory(ValueError("array is too big; `arr.size * arr.dtype.itemsize` is larger"))
    # a plugin's own overflow is its bug, not memory (review)
    assert out_of_memory(OverflowError("int too large to convert to float")) is None
    assert out_of_memory(ValueError("invalid literal for int()")) is None
