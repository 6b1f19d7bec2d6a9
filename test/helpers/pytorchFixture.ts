/** The PyTorch 1.13 reference (scripts/pytorch-fixtures.py → test/fixtures/pytorch/observers.json). */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FIXTURES } from './reference';

export const PYTORCH_FIXTURES = join(FIXTURES, 'pytorch');

export interface TorchActivationObserver {
  observer: string;
  dtype: string;
  reduceRange: boolean;
  quantMin: number;
  quantMax: number;
  minVal: number;
  maxVal: number;
  searched: [number, number] | null;
  histogramSum: number | null;
  scale: number;
  zeroPoint: number;
}

export interface TorchBackend {
  engine: string;
  observed: string[];
  activations: Record<string, TorchActivationObserver>;
  weights: Record<string, { observer: string; scales: number[]; zeroPoints: number[]; codes: number[] }>;
  quantizedOutputs: number[][];
}

export interface PytorchFixture {
  torch: string;
  model: string;
  inputShape: number[];
  calibration: string[];
  heldOut: number[][];
  floatOutputs: number[][];
  floatWeights: Record<string, { shape: number[]; data: number[] }>;
  backends: Record<'fbgemm' | 'x86' | 'qnnpack', TorchBackend>;
  observerInputs: Record<string, number[][]>;
  weight(mod: string): { data: Float32Array; shape: number[] };
}

/** observers.json: the Linear-ReLU-Linear example; observers-conv.json: Conv, ReLU, pooling, flatten, Linear. */
export function loadPytorchFixture(file = 'observers.json'): PytorchFixture {
  const raw = JSON.parse(readFileSync(join(PYTORCH_FIXTURES, file), 'utf8')) as Omit<PytorchFixture, 'weight'>;
  return {
    ...raw,
    weight: (mod) => {
      const w = raw.floatWeights[mod]!;
      return { data: Float32Array.from(w.data), shape: w.shape };
    },
  };
}
