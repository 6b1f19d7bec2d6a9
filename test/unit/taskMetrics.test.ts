/**
 * The task metrics a tuning target can read: character accuracy of CTC-decoded lines against their
 * texts, and box F1 of a detection map against the float model's boxes. Each bound moves when the
 * outputs are broken.
 */
import { describe, expect, it } from 'vitest';
import { isQuantscopeError } from '../../src/core/errors';
import { ocrDetectionTask, ocrRecognitionTask } from '../../src/runtime/tune/taskMetrics';

const DICTIONARY = 'a\nb\nc\n'; // classes: blank, a, b, c, space
const C = 5;

/** A [1, T, C] output reading `ids` (class per step). */
function line(ids: number[]): Float32Array {
  const o = new Float32Array(ids.length * C).fill(0.01);
  ids.forEach((k, t) => (o[t * C + k] = 0.9));
  return o;
}

/** A [1, 1, H, W] probability map with squares (x, y, size) lit at 0.9. */
function page(squares: [number, number, number][], h = 40, w = 40): Float32Array {
  const o = new Float32Array(h * w);
  for (const [x0, y0, s] of squares)
    for (let y = y0; y < y0 + s; y++) for (let x = x0; x < x0 + s; x++) o[y * w + x] = 0.9;
  return o;
}

describe('task metrics', () => {
  it('character accuracy of the decoded lines against their texts; lines without a text are not scored', () => {
    const task = ocrRecognitionTask(DICTIONARY, ['ab', undefined, 'abc']);
    const dims = [[1, 4, C]];
    // "ab" (a, a, blank, b) is right; "ab" for "abc" misses one of 3 characters
    const outs = [line([1, 1, 0, 2]), line([3, 3, 3, 3]), line([1, 0, 2, 0])];
    expect(task.score(outs, dims)).toBeCloseTo(1 - 1 / 5, 10);
    expect(task.score([line([1, 0, 2, 0]), outs[1]!, line([1, 2, 3, 0])], dims)).toBe(1);
    expect(task.score([line([0, 0, 0, 0]), outs[1]!, line([0, 0, 0, 0])], dims)).toBe(0);
    const none = (() => {
      try {
        return ocrRecognitionTask(DICTIONARY, [undefined]);
      } catch (e) {
        return e;
      }
    })();
    expect(isQuantscopeError(none) && none.code).toBe('BAD_DATA');
  });

  it("box F1 against the float model's boxes: 1 for the same boxes, less for a moved or missing one", () => {
    const task = ocrDetectionTask();
    const dims = [
      [1, 1, 40, 40],
      [1, 1, 40, 40],
    ];
    const float = [
      page([
        [2, 2, 8],
        [20, 20, 10],
      ]),
      page([[5, 25, 6]]),
    ];
    task.prepare!(float, dims);
    expect(task.score(float, dims)).toBe(1);
    // one box of three moved far away: 2 matched of 3 + 3
    expect(
      task.score(
        [
          page([
            [2, 2, 8],
            [28, 0, 10],
          ]),
          float[1]!,
        ],
        dims,
      ),
    ).toBeCloseTo((2 * 2) / 6, 10);
    // one box lost: 2 matched of 3 + 2
    expect(task.score([page([[2, 2, 8]]), float[1]!], dims)).toBeCloseTo((2 * 2) / 5, 10);
    expect(task.score([page([]), page([])], dims)).toBe(0);
  });
});
