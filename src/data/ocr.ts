/**
 * Reading PP-OCR outputs, so the page can show what a quantized OCR model still reads:
 * greedy CTC decoding for recognition (PaddleOCR's CTCLabelDecode: blank is class 0, then the
 * dictionary, then a space) and text boxes for detection (DB: threshold the probability map, take
 * connected regions, grow each box by area × 1.5 / perimeter as DB's unclip does).
 */

/** The class list of a PP-OCR recognition model: blank, the dictionary's lines, space. */
export function ctcClasses(dictionary: string): string[] {
  const keys = dictionary.split(/\r?\n/);
  if (keys[keys.length - 1] === '') keys.pop();
  return ['', ...keys, ' '];
}

/** Greedy CTC: the best class per time step, repeats collapsed, blanks dropped. */
export function ctcGreedyDecode(
  probs: Float32Array,
  steps: number,
  classes: readonly string[],
): { text: string; confidence: number } {
  const c = classes.length;
  let text = '';
  let prev = -1;
  let confSum = 0;
  let confN = 0;
  for (let t = 0; t < steps; t++) {
    let best = 0;
    let bestP = -Infinity;
    for (let k = 0; k < c; k++) {
      const p = probs[t * c + k]!;
      if (p > bestP) {
        bestP = p;
        best = k;
      }
    }
    if (best !== 0 && best !== prev) {
      text += classes[best] ?? '';
      confSum += bestP;
      confN++;
    }
    prev = best;
  }
  return { text, confidence: confN ? confSum / confN : 0 };
}

/** Levenshtein distance between two strings (by UTF-16 code unit; the dictionaries are BMP). */
export function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diag = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const up = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = up;
    }
  }
  return row[b.length]!;
}

/** Character accuracy over a set of lines: 1 − Σ edit distance / Σ reference length. */
export function characterAccuracy(pairs: readonly { ref: string; hyp: string }[]): number {
  let dist = 0;
  let len = 0;
  for (const p of pairs) {
    dist += editDistance(p.ref, p.hyp);
    len += p.ref.length;
  }
  return len ? 1 - dist / len : 1;
}

export interface TextBox {
  readonly x0: number;
  readonly y0: number;
  readonly x1: number;
  readonly y1: number;
  readonly score: number;
}

/** DB post-processing, axis-aligned: regions of prob > threshold with mean score ≥ boxThreshold. */
export function detectBoxes(
  prob: Float32Array,
  height: number,
  width: number,
  threshold = 0.3,
  boxThreshold = 0.6,
  minSize = 3,
): TextBox[] {
  const seen = new Uint8Array(width * height);
  const boxes: TextBox[] = [];
  const stack: number[] = [];
  for (let start = 0; start < prob.length; start++) {
    if (seen[start] || prob[start]! <= threshold) continue;
    let x0 = width;
    let y0 = height;
    let x1 = -1;
    let y1 = -1;
    let area = 0;
    let sum = 0;
    stack.push(start);
    seen[start] = 1;
    while (stack.length) {
      const p = stack.pop()!;
      const x = p % width;
      const y = (p - x) / width;
      area++;
      sum += prob[p]!;
      if (x < x0) x0 = x;
      if (x > x1) x1 = x;
      if (y < y0) y0 = y;
      if (y > y1) y1 = y;
      const next = [
        x > 0 ? p - 1 : -1,
        x < width - 1 ? p + 1 : -1,
        y > 0 ? p - width : -1,
        y < height - 1 ? p + width : -1,
      ];
      for (const q of next) {
        if (q >= 0 && !seen[q] && prob[q]! > threshold) {
          seen[q] = 1;
          stack.push(q);
        }
      }
    }
    const w = x1 - x0 + 1;
    const h = y1 - y0 + 1;
    if (Math.min(w, h) < minSize || sum / area < boxThreshold) continue;
    const grow = (w * h * 1.5) / (2 * (w + h));
    boxes.push({
      x0: Math.max(0, x0 - grow),
      y0: Math.max(0, y0 - grow),
      x1: Math.min(width, x1 + 1 + grow),
      y1: Math.min(height, y1 + 1 + grow),
      score: sum / area,
    });
  }
  return boxes;
}
