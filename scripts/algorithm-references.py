"""
Reference outputs for the weight-rounding and equalization algorithms, computed ONCE with the published
reference code ported to run here (PyTorch 1.13, numpy), and written to test/fixtures/algorithms/*.json.
The tests (test/unit/algorithms.reference.test.ts) need no Python.

    /usr/bin/python3 scripts/algorithm-references.py PATH/refcode.py

This file is our harness only: the inputs, the calls and the fixture format. The reference code itself
is not kept in this repository (public repositories' code stays out of our commits). PATH/refcode.py is
a module you assemble from the files and commits named below, with the changes named below, defining:
quantize, Quantizer, GPTQ (gptq); compute_recon_loss, _compute_beta, compute_round_loss, initialize_alpha,
adaround_weights and adaround_layer (AdaRound: the optimizer's iteration loop over one layer, returning
the hard-rounded weight and the reconstruction loss before and after); compute_range_along_first_axis,
for_two_conv_layers and scale_layer_params (cross-layer equalization, float32 numpy); smooth_ln_fcs
(SmoothQuant). The fixtures under test/fixtures/algorithms hold every input and output, so the tests
need neither Python nor that module.

Ported code and the changes made to run it without a model around it (nothing else changed):
- GPTQ: IST-DASLab/gptq gptq.py (commit 9f2abd32533c83079847435a7c971bb4420285c8) GPTQ.add_batch (the
  nn.Linear path) and GPTQ.fasterquant, quant.py (commit 2e22596c99dfcf415a3cb2535a674b76daa6e2c5) quantize
  and Quantizer.configure/find_params. Changes: the layer is a bare weight tensor; float64 instead of
  float32 (so that the comparison measures the algorithm, not float32 accumulation order); no CUDA
  synchronize or prints; fasterquant returns Q and the summed Losses.
- AdaRound: quic/aimet aimet_torch/adaround adaround_loss.py (commit 5ed52fbeb3294b1fadb0b9e0a455bd069c3ff1d0)
  compute_recon_loss, compute_round_loss, _compute_beta; adaround_tensor_quantizer.py (commit
  020edc406c6b71b8b2f5142cc261a1bd8abd363c) adaround_weights and _initialize_alpha; the iteration loop of
  adaround_optimizer.py (commit 033ae2f56eb4b3e4b5e266b095b16954ac2d44cb) _optimize_rounding. Changes: the
  whole cached input is one batch every iteration (AIMET draws 32 rows at random), float64, and the grid
  (delta, offset) comes from the GPTQ reference's Quantizer (symmetric 4-bit per channel: the grid our
  round-to-nearest uses).
- Cross-layer equalization: quic/aimet ModelOptimizations/DlEqualization/src ScaleFactorCalculator.cpp
  ForTwoConvLayers (commit 2e6fd8c6b52af2c2291a88463ca89fd5968333aa), CrossLayerScaling.cpp scaleLayerParams
  and TensorOperations.cpp computeRangeAlongFirstAxis (commit 744f0a5d6d355ac66b77fd3e3b949eed9ba0f872),
  C++/OpenCV float32 transcribed to numpy float32.
- SmoothQuant: mit-han-lab/smoothquant smoothquant/smooth.py smooth_ln_fcs, for one LayerNorm and one Linear.
"""
import json
import importlib.util
import os
import sys

import numpy as np
import torch
import torch.nn as nn

OUT = os.path.join(os.path.dirname(__file__), '..', 'test', 'fixtures', 'algorithms')
DT = torch.float64


def load_reference(path):
    spec = importlib.util.spec_from_file_location('refcode', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def flat(t):
    # 9 significant digits: float32 inputs round-trip exactly; float64 outputs keep 1e-9 relative
    return [float('%.9g' % v) for v in (t.detach().numpy() if isinstance(t, torch.Tensor) else t).reshape(-1)]


def layer_inputs(rng, rows, cols, dead=None):
    x = rng.standard_normal((rows, cols))
    x[:, 3] *= 8.0  # outlier input channels
    x[:, 11] *= 5.0
    if dead is not None:
        x[:, dead] = 0.0
    return x.astype(np.float32)


def main():
    if len(sys.argv) != 2:
        sys.exit('usage: scripts/algorithm-references.py PATH/refcode.py (see the docstring)')
    ref = load_reference(sys.argv[1])
    GPTQ, Quantizer, adaround_layer = ref.GPTQ, ref.Quantizer, ref.adaround_layer
    scale_layer_params, smooth_ln_fcs = ref.scale_layer_params, ref.smooth_ln_fcs
    os.makedirs(OUT, exist_ok=True)
    rng = np.random.default_rng(14)
    rows, cols, n = 16, 64, 160
    W = (rng.standard_normal((rows, cols)) * 0.1).astype(np.float32)
    W[:, 7] *= 4.0
    X = layer_inputs(rng, n, cols, dead=50)
    cases = []
    for name, bits, sym, groupsize, blocksize, actorder in [
        ('int4-sym-per-channel-block128', 4, True, -1, 128, False),
        ('int4-sym-per-channel-block32', 4, True, -1, 32, False),
        ('uint4-asym-group16-block32', 4, False, 16, 32, False),
        ('int4-sym-group32-actorder', 4, True, 32, 128, True),
        ('int4-sym-per-channel-actorder', 4, True, -1, 16, True),
        ('uint8-asym-per-channel', 8, False, -1, 128, False),
    ]:
        g = GPTQ(torch.tensor(W, dtype=DT))
        for b in range(0, n, 32):  # five calibration batches, streamed
            g.add_batch(torch.tensor(X[b:b + 32], dtype=DT))
        g.quantizer = Quantizer()
        g.quantizer.configure(bits, perchannel=True, sym=sym)
        Q, loss = g.fasterquant(blocksize=blocksize, percdamp=0.01, groupsize=groupsize, actorder=actorder,
                                static_groups=actorder and groupsize != -1)
        cases.append({'name': name, 'bits': bits, 'symmetric': sym, 'groupSize': None if groupsize == -1 else groupsize,
                      'blockSize': blocksize, 'actOrder': actorder, 'Q': flat(Q), 'loss': loss})
    with open(os.path.join(OUT, 'gptq.json'), 'w') as f:
        json.dump({'source': 'IST-DASLab/gptq gptq.py 9f2abd3, quant.py 2e22596 (scripts/algorithm-references.py)',
                   'rows': rows, 'cols': cols, 'n': n, 'W': flat(W), 'X': flat(X), 'percDamp': 0.01, 'cases': cases}, f)

    rows2, cols2, n2 = 12, 32, 96
    W2 = (rng.standard_normal((rows2, cols2)) * 0.2).astype(np.float32)
    X2 = layer_inputs(rng, n2, cols2)
    ada = []
    for iters in [50, 400]:
        torch.manual_seed(0)
        hard, before, after = adaround_layer(torch.tensor(W2, dtype=DT), torch.tensor(X2, dtype=DT), 4, iters)
        ada.append({'iterations': iters, 'Q': flat(hard), 'reconBefore': before, 'reconAfter': after})
    with open(os.path.join(OUT, 'adaround.json'), 'w') as f:
        json.dump({'source': 'quic/aimet adaround_loss.py 5ed52fb, adaround_tensor_quantizer.py 020edc4, '
                             'adaround_optimizer.py 033ae2f (scripts/algorithm-references.py)',
                   'rows': rows2, 'cols': cols2, 'n': n2, 'W': flat(W2), 'X': flat(X2), 'bits': 4, 'cases': ada}, f)

    w1 = (rng.standard_normal((8, 4, 3, 3)) * rng.uniform(0.05, 3.0, (8, 1, 1, 1))).astype(np.float32)
    b1 = rng.standard_normal(8).astype(np.float32)
    w2 = (rng.standard_normal((6, 8, 1, 1)) * 0.3).astype(np.float32)
    w1e, b1e, w2e, s = scale_layer_params(w1, b1, w2)
    with open(os.path.join(OUT, 'cle.json'), 'w') as f:
        json.dump({'source': 'quic/aimet ScaleFactorCalculator.cpp 2e6fd8c, CrossLayerScaling.cpp 744f0a5 '
                             '(scripts/algorithm-references.py)',
                   'w1': flat(w1), 'shape1': list(w1.shape), 'b1': flat(b1), 'w2': flat(w2), 'shape2': list(w2.shape),
                   'w1Equalized': flat(w1e), 'b1Equalized': flat(b1e), 'w2Equalized': flat(w2e), 'scales': flat(s)}, f)

    d, out = 16, 8
    ln = nn.LayerNorm(d).to(torch.float32)
    fc = nn.Linear(d, out).to(torch.float32)
    with torch.no_grad():
        ln.weight.copy_(torch.tensor(rng.uniform(0.5, 1.5, d), dtype=torch.float32))
        ln.bias.copy_(torch.tensor(rng.standard_normal(d) * 0.1, dtype=torch.float32))
        fc.weight.copy_(torch.tensor(rng.standard_normal((out, d)) * 0.2, dtype=torch.float32))
    act = torch.tensor(np.abs(rng.standard_normal(d)) * np.where(np.arange(d) % 5 == 0, 30.0, 1.0), dtype=torch.float32)
    gamma, beta, wfc = flat(ln.weight), flat(ln.bias), flat(fc.weight)
    scales = smooth_ln_fcs(ln, fc, act, 0.5)
    with open(os.path.join(OUT, 'smoothquant.json'), 'w') as f:
        json.dump({'source': 'mit-han-lab/smoothquant smooth.py smooth_ln_fcs (scripts/algorithm-references.py)',
                   'alpha': 0.5, 'actAbsMax': flat(act), 'gamma': gamma, 'beta': beta, 'fcWeight': wfc, 'out': out,
                   'd': d, 'scales': flat(scales), 'gammaSmoothed': flat(ln.weight), 'betaSmoothed': flat(ln.bias),
                   'fcWeightSmoothed': flat(fc.weight)}, f)


if __name__ == '__main__':
    main()
