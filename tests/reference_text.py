"""The text format in which the C++ tests hand tensors to a PyTorch reference script and read its results
back (tests/reference_text.h is the C++ side). One tensor per line:  <name> <ndim> <dims...> : <values...>
Tensors are read as float64."""
import torch


def read_tensors(path):
    tensors = {}
    with open(path) as f:
        for line in f:
            head, _, values = line.partition(":")
            fields = head.split()
            name, ndim = fields[0], int(fields[1])
            shape = [int(d) for d in fields[2:2 + ndim]]
            data = [float(v) for v in values.split()]
            tensors[name] = torch.tensor(data, dtype=torch.float64).reshape(shape)
    return tensors


def write_tensors(path, tensors):
    with open(path, "w") as f:
        for name, t in tensors.items():
            shape = list(t.shape)
            t = t.detach().reshape(-1) if t.dim() > 0 else t.detach().reshape(1)
            f.write(f"{name} {len(shape)} {' '.join(map(str, shape))} : ")
            f.write(" ".join(repr(float(v)) for v in t.tolist()) + "\n")
