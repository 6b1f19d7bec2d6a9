/**
 * Which input of a model images feed, with what preprocessing: PP-OCR models (det, rec and the text
 * direction classifier) get PaddleOCR's own presets, other 3-channel NCHW float inputs ImageNet's. Shared by the page and the command line.
 */
import { DT, valueInfoElemType, valueInfoShape, type ModelProto } from '../onnx';
import { PPOCR_CLS_PRESET, PPOCR_DET_PRESET, PPOCR_REC_PRESET, type ImagePreset } from './image';

/** Which PP-OCR model this is, by its output: [N, T, 6625] CTC classes, or a [N, 1, H, W] map. */
export function ocrKind(model: ModelProto): 'det' | 'rec' | null {
  const out = model.graph!.output[0];
  const shape = out ? valueInfoShape(out) : undefined;
  if (!shape) return null;
  if (shape.length === 3 && shape[2] === 6625) return 'rec';
  if (shape.length === 4 && shape[1] === 1 && model.graph!.node.some((n) => n.opType === 'ConvTranspose')) return 'det';
  return null;
}

/**
 * PaddleOCR's text direction classifier as Paddle2ONNX writes it: one input "x" [N, 3, H, W] with H and W
 * free, one output of two classes [N, 2] (0° and 180°). Its images get PaddleOCR's cls preprocessing.
 */
export function isPaddleTextClassifier(model: ModelProto): boolean {
  const inits = new Set(model.graph!.initializer.map((t) => t.name));
  const inputs = model.graph!.input.filter((v) => !inits.has(v.name));
  const outs = model.graph!.output;
  if (inputs.length !== 1 || inputs[0]!.name !== 'x' || outs.length !== 1) return false;
  const i = valueInfoShape(inputs[0]!);
  const o = valueInfoShape(outs[0]!);
  return (
    !!i &&
    i.length === 4 &&
    i[1] === 3 &&
    typeof i[2] !== 'number' &&
    typeof i[3] !== 'number' &&
    !!o &&
    o.length === 2 &&
    o[1] === 2
  );
}

/** An NCHW float input with 3 channels can take images; PP-OCR models get PaddleOCR's own preprocessing. */
export function imageInputOf(
  model: ModelProto,
  isSample: boolean,
): { readonly name: string; readonly preset: ImagePreset } | null {
  const inits = new Set(model.graph!.initializer.map((t) => t.name));
  const inputs = model.graph!.input.filter((v) => !inits.has(v.name));
  if (inputs.length !== 1) return null;
  const v = inputs[0]!;
  const shape = valueInfoShape(v);
  if (valueInfoElemType(v) !== DT.FLOAT || !shape || shape.length !== 4 || shape[1] !== 3) return null;
  const [h, w] = [shape[2], shape[3]];
  const fixed = { ...(typeof w === 'number' ? { width: w } : {}), ...(typeof h === 'number' ? { height: h } : {}) };
  const kind = ocrKind(model);
  const preset: ImagePreset =
    kind === 'rec'
      ? PPOCR_REC_PRESET
      : kind === 'det' || isSample
        ? PPOCR_DET_PRESET
        : isPaddleTextClassifier(model)
          ? PPOCR_CLS_PRESET
          : { normalize: 'imagenet', channels: 'RGB', layout: 'NCHW', resize: 'stretch', ...fixed };
  return { name: v.name, preset };
}
