/**
 * The graph view's layered layout (src/onnx/layout.ts): time to lay out PP-OCRv4 det and rec as the
 * page does, and a 650-node and a 2000-node DAG like a CNN's (a chain with skip edges over up to 30
 * nodes). Median of 5 runs after one warm-up. Target: under 100 ms at 650 nodes, so opening the view
 * never holds the page.
 */
import { mulberry32 } from '../src/core/random';
import { decodeModel, prepareModel } from '../src/onnx';
import { layeredLayout } from '../src/onnx/layout';
import { graphDrawing } from '../src/onnx/layoutGraph';
import { ocrModel } from '../test/helpers/sample';

type Emit = (name: string, value: number, unit: string, extra?: Record<string, unknown>) => void;

function median(f: () => void): number {
  f();
  const t: number[] = [];
  for (let i = 0; i < 5; i++) {
    const t0 = performance.now();
    f();
    t.push(performance.now() - t0);
  }
  return t.sort((a, b) => a - b)[2]!;
}

function cnnLikeDag(n: number) {
  const rand = mulberry32(n);
  const nodes = Array.from({ length: n }, (_, i) => ({ id: `n${i}`, width: 56 + Math.floor(rand() * 90), height: 26 }));
  const edges: { from: string; to: string }[] = [];
  for (let i = 1; i < n; i++) {
    edges.push({ from: `n${i - 1}`, to: `n${i}` });
    if (rand() < 0.25) edges.push({ from: `n${Math.max(0, i - 2 - Math.floor(rand() * 30))}`, to: `n${i}` });
  }
  return { nodes, edges };
}

export function benchLayout(emit: Emit): void {
  for (const name of ['det', 'rec'] as const) {
    const g = prepareModel(decodeModel(ocrModel(name), `${name}.onnx`)).model.graph!;
    emit(
      `graph_layout_${name}_ms`,
      median(() => graphDrawing(g)),
      'ms',
      { nodes: g.node.length },
    );
  }
  for (const n of [650, 2000]) {
    const { nodes, edges } = cnnLikeDag(n);
    emit(
      `graph_layout_${n}_nodes_ms`,
      median(() => layeredLayout(nodes, edges)),
      'ms',
      n === 650 ? { target: 100, nodes: n } : { nodes: n },
    );
  }
}
