"""PyTorch's float32 -> bfloat16 rounding, the reference for autograd/bf16.h's bf16_round.

Usage: reference_bf16.py INPUT OUTPUT. INPUT holds one float32 bit pattern per line (8 hex digits);
OUTPUT gets the bit pattern of torch.tensor(value).to(torch.bfloat16) for each (4 hex digits). Exits
with status 3 when torch cannot be imported (the C++ test then fails under GPT_REQUIRE_TORCH=1, else
skips). Called by tests/autograd/test_bf16.cpp.
"""
import sys

try:
    import torch
except ImportError as error:
    print(f"reference_bf16.py: cannot import torch ({error})", file=sys.stderr)
    sys.exit(3)


def main():
    with open(sys.argv[1]) as f:
        bits = [int(line, 16) for line in f if line.strip()]
    # The bit patterns reinterpreted as float32 in torch itself (no trip through Python's doubles).
    signed = [b - (1 << 32) if b >= (1 << 31) else b for b in bits]
    values = torch.tensor(signed, dtype=torch.int32).view(torch.float32)
    rounded = values.to(torch.bfloat16).view(torch.int16)
    with open(sys.argv[2], "w") as f:
        for v in rounded.tolist():
            f.write(f"{v & 0xFFFF:04x}\n")


if __name__ == "__main__":
    main()
