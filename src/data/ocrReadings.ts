/** What a PP-OCR model's outputs say, for the page: decoded text, or detected boxes. */
import { characterAccuracy, ctcClasses, ctcGreedyDecode, detectBoxes, type TextBox } from './ocr';

export type { TextBox };

/** One sample's outputs from both models (runtime/compareJob's ComparedSample has this shape). */
export interface ComparedOutputs {
  readonly name: string;
  readonly outputs: readonly {
    readonly dims: readonly number[];
    readonly float: Float32Array | null;
    readonly quantized: Float32Array | null;
  }[];
}

export interface RecReading {
  readonly name: string;
  readonly float: string;
  readonly quantized: string;
}

export function readRecognition(results: readonly ComparedOutputs[], dictionary: string): RecReading[] {
  const classes = ctcClasses(dictionary);
  return results.flatMap((r) => {
    const o = r.outputs[0];
    if (!o?.float || !o.quantized) return [];
    const steps = o.dims[1]!;
    return [
      {
        name: r.name,
        float: ctcGreedyDecode(o.float, steps, classes).text,
        quantized: ctcGreedyDecode(o.quantized, steps, classes).text,
      },
    ];
  });
}

export function recAccuracy(
  readings: readonly RecReading[],
  truth: Readonly<Record<string, string>>,
): { float: number; quantized: number } | null {
  const rows = readings.filter((r) => truth[r.name] !== undefined);
  if (!rows.length) return null;
  return {
    float: characterAccuracy(rows.map((r) => ({ ref: truth[r.name]!, hyp: r.float }))),
    quantized: characterAccuracy(rows.map((r) => ({ ref: truth[r.name]!, hyp: r.quantized }))),
  };
}

export interface DetReading {
  readonly name: string;
  readonly width: number;
  readonly height: number;
  readonly float: TextBox[];
  readonly quantized: TextBox[];
}

export function readDetection(results: readonly ComparedOutputs[]): DetReading[] {
  return results.flatMap((r) => {
    const o = r.outputs[0];
    if (!o?.float || !o.quantized || o.dims.length !== 4) return [];
    const [h, w] = [o.dims[2]!, o.dims[3]!];
    return [
      {
        name: r.name,
        width: w,
        height: h,
        float: detectBoxes(o.float, h, w),
        quantized: detectBoxes(o.quantized, h, w),
      },
    ];
  });
}
