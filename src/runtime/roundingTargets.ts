/**
 * What the weight-rounding job (weightRounding.ts) works on: the nodes whose weights an algorithm rounds
 * (weight-only forms; MatMul, Gemm, Conv with a constant float32 weight; `algorithm` resolved per model,
 * op type and node from the configuration), and the job's progress report.
 */
import { weightConfigFor, type QuantConfig, type WeightAlgorithm } from '../core/config';
import type { ModelProto, NodeProto } from '../onnx';
import { weightMatrix, type WeightMatrix } from '../onnx/weightMatrix';

export interface RoundingTarget {
  readonly node: NodeProto;
  readonly algorithm: Exclude<WeightAlgorithm, 'rtn'>;
  readonly matrix: WeightMatrix;
  readonly input: string;
  /** The Conv kernel's spatial dims (the weight's dims after [M, C/g]). */
  readonly kernel: readonly number[];
}

export interface RoundingProgress {
  readonly phase: 'moments' | 'rounding';
  readonly done: number;
  readonly total: number;
  readonly node?: string;
}

/** The weight-only form's grid and which nodes an algorithm rounds; null when none does. */
export function roundingTargets(model: ModelProto, config: QuantConfig): RoundingTarget[] {
  const form = config.form;
  if (!form || form.kind !== 'weight-only') return [];
  const g = model.graph!;
  const inits = new Map(g.initializer.map((t) => [t.name, t]));
  const ops = new Set(form.ops ?? ['MatMul', 'Gemm', 'Conv']);
  const out: RoundingTarget[] = [];
  for (const node of g.node) {
    if (!ops.has(node.opType) || !['MatMul', 'Gemm', 'Conv'].includes(node.opType)) continue;
    if (config.excludeNodes.includes(node.name)) continue;
    const algorithm = weightConfigFor(config, node.name, node.opType).algorithm ?? 'rtn';
    if (algorithm === 'rtn') continue;
    const w = inits.get(node.input[1] ?? '');
    if (!w || w.dataType !== 1 || inits.has(node.input[0] ?? '')) continue;
    if (form.format === 'matmulnbits' && node.opType === 'Conv') continue;
    const matrix = weightMatrix(node, w, form.blockSize);
    if (typeof matrix === 'string') continue;
    out.push({ node, algorithm, matrix, input: node.input[0]!, kernel: w.dims.slice(2).map(Number) });
  }
  return out;
}
