#!/usr/bin/python3
"""
Reference values for Quantscope's PyTorch presets (--preset fbgemm|x86|qnnpack), computed ONCE with
PyTorch itself and committed (tests never run Python). Debian's python3-torch (PyTorch 1.13):

    apt-get update && apt-get install -y python3-torch python3-numpy
    /usr/bin/python3 scripts/pytorch-fixtures.py

The textbook eager post-training quantization example: Linear(10, 10), ReLU, Linear(10, 2) between
QuantStub and DeQuantStub, qconfig = torch.ao.quantization.get_default_qconfig(backend), prepare, 100
calibration calls (one sample each, fixed seed), convert. It writes, under test/fixtures/pytorch/:
  - tiny_mlp.onnx: the float model (torch.onnx.export, opset 13);
  - calib/NNN.npy: the 100 calibration samples, one file per observer call ([1, 10] float32);
  - observers.json: per backend, every observer's min_val/max_val, the range its calculate_qparams
    searched (HistogramObserver._non_linear_param_search), scale and zero point; the tensors each
    activation observer saw (float32, in call order; the same for every backend, stored once) so the
    core observer can be checked without onnxruntime in between; each weight's per-channel (or per-tensor) scales, zero points and int8
    codes; and the float and quantized (convert) model's outputs on held-out samples, with the
    quantized engine that ran them (Debian's build has qnnpack and onednn, no fbgemm).
Every float is written as float32 made exact in JSON (repr of a float64 that holds the float32).
"""
import json
import os

import numpy as np
import torch
import torch.nn as nn
from torch.ao.quantization import DeQuantStub, QuantStub, convert, get_default_qconfig, prepare

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'test', 'fixtures', 'pytorch')
SEED = 17
N_CALIB = 100
N_EVAL = 8
BACKENDS = ['fbgemm', 'x86', 'qnnpack']
# the engine that runs each backend's converted model here (fbgemm is not in Debian's build; onednn
# is x86's engine in later releases and takes the same reduce_range/per-channel qconfig)
ENGINE = {'fbgemm': 'onednn', 'x86': 'onednn', 'qnnpack': 'qnnpack'}


class TinyMlp(nn.Module):
    def __init__(self):
        super().__init__()
        self.quant = QuantStub()
        self.fc1 = nn.Linear(10, 10)
        self.relu = nn.ReLU()
        self.fc2 = nn.Linear(10, 2)
        self.dequant = DeQuantStub()

    def forward(self, x):
        x = self.quant(x)
        x = self.fc1(x)
        x = self.relu(x)
        x = self.fc2(x)
        return self.dequant(x)


class TinyConvNet(nn.Module):
    """Ops whose quantized form keeps its input's scale and zero point (ReLU, max and average pooling,
    flatten): eager PyTorch observes none of them."""

    def __init__(self):
        super().__init__()
        self.quant = QuantStub()
        self.conv = nn.Conv2d(3, 4, 3, padding=1)
        self.relu = nn.ReLU()
        self.pool = nn.MaxPool2d(2)
        self.gap = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(4, 3)
        self.dequant = DeQuantStub()

    def forward(self, x):
        x = self.quant(x)
        x = self.relu(self.conv(x))
        x = self.gap(self.pool(x))
        x = self.fc(torch.flatten(x, 1))
        return self.dequant(x)


def f32list(t):
    return [float(v) for v in t.detach().to(torch.float32).reshape(-1).tolist()]


def write_npy(path, arr):
    arr = np.ascontiguousarray(arr, dtype='<f4')
    np.save(path, arr)


def make_fixture(model_class, stem, shape, calib_dir, out_name, weight_modules, record_inputs):
    torch.manual_seed(SEED)
    float_model = model_class().eval()
    # calibration data: a wider-than-unit normal so the observers' ranges grow across calls
    calib = [torch.randn(*shape) * 2.0 for _ in range(N_CALIB)]
    held_out = [torch.randn(*shape) * 2.0 for _ in range(N_EVAL)]
    os.makedirs(os.path.join(ROOT, calib_dir), exist_ok=True)
    for i, x in enumerate(calib):
        write_npy(os.path.join(ROOT, calib_dir, '%03d.npy' % i), x.numpy())
    torch.onnx.export(
        float_model,
        calib[0],
        os.path.join(ROOT, stem + '.onnx'),
        opset_version=13,
        input_names=['input'],
        output_names=['output'],
        do_constant_folding=True,
    )
    out = {
        'script': 'scripts/pytorch-fixtures.py',
        'torch': torch.__version__,
        'seed': SEED,
        'model': stem + '.onnx',
        'inputShape': list(shape),
        'calibration': ['%s/%03d.npy' % (calib_dir, i) for i in range(N_CALIB)],
        'heldOut': [f32list(x) for x in held_out],
        'floatOutputs': [f32list(float_model(x)) for x in held_out],
        'floatWeights': {
            n: {'shape': list(getattr(float_model, n).weight.shape), 'data': f32list(getattr(float_model, n).weight)}
            for n in weight_modules
        },
        'backends': {},
        'observerInputs': {},
    }
    for backend in BACKENDS:
        torch.backends.quantized.engine = ENGINE[backend]
        m = model_class().eval()
        m.load_state_dict(float_model.state_dict())
        m.qconfig = get_default_qconfig(backend)
        prepared = prepare(m)
        observers = {name: mod for name, mod in prepared.named_modules() if name.endswith('activation_post_process')}
        seen = {name: [] for name in observers}

        def recorder(name):
            def hook(module, inputs):
                seen[name].append(f32list(inputs[0]))

            return hook

        for name, mod in observers.items():
            mod.register_forward_pre_hook(recorder(name))
        with torch.no_grad():
            for x in calib:
                prepared(x)
        acts = {}
        for name, obs in observers.items():
            searched = obs._non_linear_param_search() if hasattr(obs, '_non_linear_param_search') else None
            scale, zp = obs.calculate_qparams()
            acts[name] = {
                'observer': type(obs).__name__,
                'dtype': str(obs.dtype),
                'qscheme': str(obs.qscheme),
                'reduceRange': bool(obs.reduce_range),
                'quantMin': int(obs.quant_min),
                'quantMax': int(obs.quant_max),
                'minVal': float(obs.min_val),
                'maxVal': float(obs.max_val),
                'searched': [float(searched[0]), float(searched[1])] if searched else None,
                'histogramSum': float(obs.histogram.sum()) if hasattr(obs, 'histogram') else None,
                'scale': float(scale[0]),
                'zeroPoint': int(zp[0]),
            }
            # prepare() leaves the float forward as it was: every backend's observers see the same tensors
            if record_inputs:
                previous = out['observerInputs'].setdefault(name, seen[name])
                assert previous == seen[name], name
        weights = {}
        for mod_name in weight_modules:
            wobs = m.qconfig.weight()
            w = getattr(float_model, mod_name).weight.detach()
            wobs(w)
            s, z = wobs.calculate_qparams()
            weights[mod_name] = {
                'observer': type(wobs).__name__,
                'qscheme': str(wobs.qscheme),
                'scales': f32list(s),
                'zeroPoints': [int(v) for v in z.reshape(-1).tolist()],
            }
        quantized = convert(prepared)
        for mod_name in weight_modules:
            qw = getattr(quantized, mod_name).weight()
            weights[mod_name]['codes'] = [int(v) for v in qw.int_repr().reshape(-1).tolist()]
        with torch.no_grad():
            q_outputs = [f32list(quantized(x)) for x in held_out]
        out['backends'][backend] = {
            'qconfig': str(m.qconfig),
            'engine': ENGINE[backend],
            'observed': sorted(observers),
            'activations': acts,
            'weights': weights,
            'quantizedModel': str(quantized),
            'quantizedOutputs': q_outputs,
        }
    with open(os.path.join(ROOT, out_name), 'w') as f:
        json.dump(out, f, indent=1)
        f.write('\n')


def main():
    make_fixture(TinyMlp, 'tiny_mlp', (1, 10), 'calib', 'observers.json', ['fc1', 'fc2'], True)
    # the observers' inputs are not kept for the conv net (they would not be small)
    make_fixture(TinyConvNet, 'tiny_convnet', (1, 3, 8, 8), 'calib-conv', 'observers-conv.json', ['conv', 'fc'], False)


if __name__ == '__main__':
    main()
