#!/usr/bin/env python3
"""Recover a trainable ReaderNet (.pt) from a line-reader ONNX file, so that a shipped model can be
fine-tuned when its training checkpoint is gone.

    python training/onnx_to_torch.py models/reader.onnx --channels 24,48,96,128 --hidden 128 --out reader.pt

The ONNX export folds each BatchNorm into its convolution (weights scaled, a bias added); the recovered
network keeps the folded weights and an identity BatchNorm carrying the bias (mean 0, variance 1 - eps,
scale 1). Fine-tune it with ``train_reader.py --freeze-bn``: batch statistics would undo the folding.
The LSTM's gates are stored in ONNX order (i, o, f, c) and reordered to PyTorch's (i, f, g, o).
Prints the largest difference between the ONNX and the recovered network's outputs on random input.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import onnx
import torch
from onnx import numpy_helper

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from recognizer.reader import INPUT_H, INPUT_W  # noqa: E402
from training.train_reader import ReaderNet  # noqa: E402

ONNX_TO_TORCH_GATES = [0, 2, 3, 1]  # torch's i, f, g, o taken from onnx's i, o, f, c


def _gates(w: np.ndarray, hidden: int) -> np.ndarray:
    chunks = [w[k * hidden:(k + 1) * hidden] for k in range(4)]
    return np.concatenate([chunks[k] for k in ONNX_TO_TORCH_GATES])


def recover(path: Path, channels: tuple[int, ...], hidden: int) -> ReaderNet:
    m = onnx.load(str(path))
    init = {i.name: numpy_helper.to_array(i) for i in m.graph.initializer}
    convs = [n for n in m.graph.node if n.op_type == "Conv"]
    lstm = next(n for n in m.graph.node if n.op_type == "LSTM")
    matmul = next(n for n in m.graph.node if n.op_type == "MatMul" and any(i in init for i in n.input))
    net = ReaderNet(channels, hidden)
    conv_mods = [mod for mod in net.features if isinstance(mod, torch.nn.Conv2d)]
    bn_mods = [mod for mod in net.features if isinstance(mod, torch.nn.BatchNorm2d)]
    assert len(convs) == len(conv_mods) == len(bn_mods), (len(convs), len(conv_mods))
    with torch.no_grad():
        for node, conv, bn in zip(convs, conv_mods, bn_mods):
            w, b = init[node.input[1]], init[node.input[2]]
            conv.weight.copy_(torch.from_numpy(w))
            bn.weight.fill_(1.0)
            bn.bias.copy_(torch.from_numpy(b))
            bn.running_mean.zero_()
            bn.running_var.fill_(1.0 - bn.eps)
        W, R, B = (init[name] for name in lstm.input[1:4])
        for d, suffix in enumerate(("", "_reverse")):
            getattr(net.rnn, f"weight_ih_l0{suffix}").copy_(torch.from_numpy(_gates(W[d], hidden)))
            getattr(net.rnn, f"weight_hh_l0{suffix}").copy_(torch.from_numpy(_gates(R[d], hidden)))
            getattr(net.rnn, f"bias_ih_l0{suffix}").copy_(torch.from_numpy(_gates(B[d][: 4 * hidden], hidden)))
            getattr(net.rnn, f"bias_hh_l0{suffix}").copy_(torch.from_numpy(_gates(B[d][4 * hidden:], hidden)))
        wm = next(init[i] for i in matmul.input if i in init)
        net.head.weight.copy_(torch.from_numpy(wm.T.copy()))
        net.head.bias.copy_(torch.from_numpy(init["head.bias"]))
    return net.eval()


def max_difference(path: Path, net: ReaderNet) -> float:
    import onnxruntime as ort

    x = np.random.default_rng(0).normal(0, 1, (4, 3, INPUT_H, INPUT_W)).astype(np.float32)
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    with torch.no_grad():
        ref = net(torch.from_numpy(x)).numpy()
    return float(np.abs(ref - sess.run(None, {sess.get_inputs()[0].name: x})[0]).max())


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("onnx", type=Path)
    ap.add_argument("--channels", default="24,48,96,128")
    ap.add_argument("--hidden", type=int, default=128)
    ap.add_argument("--out", type=Path, required=True)
    a = ap.parse_args(argv)
    net = recover(a.onnx, tuple(int(v) for v in a.channels.split(",")), a.hidden)
    diff = max_difference(a.onnx, net)
    print(f"max |onnx - torch| = {diff:.2e}")
    if diff > 1e-3:
        raise SystemExit("the recovered network does not match the ONNX file")
    torch.save(net.state_dict(), a.out)
    print(f"-> {a.out}")


if __name__ == "__main__":
    main()
