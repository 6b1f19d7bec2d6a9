/**
 * Task metrics a tuning target can read as "the drop of a task metric": what the model is for, not
 * how close its numbers are. PP-OCR recognition: character accuracy (1 − Σ edit distance / Σ reference
 * length, data/ocr.ts) of the CTC-decoded text against the text the samples carry. PP-OCR detection:
 * box F1 against the float model's boxes (DB post-processing, data/ocr.ts detectBoxes; a box matches
 * one float box at IoU >= 0.5), since the built-in pages carry no boxes of their own: the float model
 * scores 1.
 */
import { QuantscopeError } from '../../core/errors';
import { characterAccuracy, ctcClasses, ctcGreedyDecode, detectBoxes, type TextBox } from '../../data/ocr';
import type { TaskMetric } from './evaluate';

/**
 * Character accuracy over the held-out lines that have a text (`texts[i]` for sample i; undefined:
 * not scored). `dictionary` is PaddleOCR's key file (ppocr_keys_v1.txt).
 */
export function ocrRecognitionTask(dictionary: string, texts: readonly (string | undefined)[]): TaskMetric {
  const classes = ctcClasses(dictionary);
  const scored = texts.flatMap((t, i) => (t === undefined ? [] : [i]));
  if (scored.length === 0)
    throw new QuantscopeError('BAD_DATA', 'no held-out sample has a text: character accuracy needs labelled lines');
  return {
    name: 'character accuracy',
    score(outputs) {
      return characterAccuracy(
        scored.map((i) => {
          const o = outputs[i]!;
          const steps = o.length / classes.length;
          if (!Number.isInteger(steps))
            throw new QuantscopeError(
              'BAD_DATA',
              `rec output of ${o.length} values is not a whole number of ${classes.length}-class steps: wrong dictionary?`,
            );
          return { ref: texts[i]!, hyp: ctcGreedyDecode(o, steps, classes).text };
        }),
      );
    },
  };
}

function iou(a: TextBox, b: TextBox): number {
  const w = Math.min(a.x1, b.x1) - Math.max(a.x0, b.x0);
  const h = Math.min(a.y1, b.y1) - Math.max(a.y0, b.y0);
  if (w <= 0 || h <= 0) return 0;
  const inter = w * h;
  const area = (t: TextBox) => (t.x1 - t.x0) * (t.y1 - t.y0);
  return inter / (area(a) + area(b) - inter);
}

/** Boxes of a [1, 1, H, W] probability map. */
function boxesOf(o: Float32Array, dims: readonly number[]): TextBox[] {
  if (dims.length !== 4 || dims[0]! * dims[1]! !== 1)
    throw new QuantscopeError('BAD_DATA', `detection boxes need a [1, 1, H, W] output, not [${dims.join(', ')}]`);
  return detectBoxes(o, dims[2]!, dims[3]!);
}

/** Matched boxes (greedy, highest IoU first, each float box used once) at IoU >= threshold. */
export function matchedBoxes(reference: readonly TextBox[], found: readonly TextBox[], threshold = 0.5): number {
  const pairs: [number, number, number][] = [];
  reference.forEach((r, i) =>
    found.forEach((f, j) => {
      const v = iou(r, f);
      if (v >= threshold) pairs.push([v, i, j]);
    }),
  );
  pairs.sort((a, b) => b[0] - a[0]);
  const usedR = new Set<number>();
  const usedF = new Set<number>();
  for (const [, i, j] of pairs) {
    if (usedR.has(i) || usedF.has(j)) continue;
    usedR.add(i);
    usedF.add(j);
  }
  return usedR.size;
}

/** Box F1 against the float model's boxes over all held-out pages (the float model: 1). */
export function ocrDetectionTask(): TaskMetric {
  let reference: TextBox[][] | null = null;
  return {
    name: 'box F1 against the float model',
    prepare(floatOutputs, dims) {
      reference = floatOutputs.map((o, i) => boxesOf(o, dims[i]!));
    },
    score(outputs, dims) {
      if (!reference) throw new QuantscopeError('BAD_DATA', 'box F1 needs the float model’s boxes first');
      let matched = 0;
      let count = 0;
      outputs.forEach((o, i) => {
        const found = boxesOf(o, dims[i]!);
        matched += matchedBoxes(reference![i]!, found);
        count += reference![i]!.length + found.length;
      });
      return count ? (2 * matched) / count : 1;
    },
  };
}
