/**
 * What the tune, switchboard and debugger tests set up alike, on the real onnxruntime-node: the
 * activation statistics a model's default plan is calibrated to, and a session factory that notes the
 * options each session is created with.
 */
import * as ort from 'onnxruntime-node';
import { DEFAULT_CONFIG } from '../../src/core/config';
import { materializeSample, type SampleSpec } from '../../src/data/samples';
import { encodeModel, planQuantization, withExtraOutputs, type ModelProto } from '../../src/onnx';
import { calibrate, type StatsMap } from '../../src/runtime/calibrate';
import type { OrtModule } from '../../src/runtime/ort';

const nodeOrt = ort as unknown as OrtModule;

/** `model`'s activations (DEFAULT_CONFIG's plan) calibrated over `samples`, one session run each. */
export async function calibrateOnSamples(model: ModelProto, samples: readonly SampleSpec[]): Promise<StatsMap> {
  const plan = planQuantization(model, DEFAULT_CONFIG);
  const session = await ort.InferenceSession.create(encodeModel(withExtraOutputs(model, plan.activations)), {
    logSeverityLevel: 3,
  });
  try {
    return await calibrate(
      nodeOrt,
      session,
      { count: samples.length, feeds: async (i) => materializeSample(samples[i]!) },
      plan.activations,
    );
  } finally {
    await session.release();
  }
}

/** The real onnxruntime-node, with the options of each session it creates noted in `options`. */
export function notingSessionOptions(): { ort: OrtModule; options: unknown[] } {
  const options: unknown[] = [];
  const noting: OrtModule = {
    ...nodeOrt,
    InferenceSession: {
      create: (m: never, o?: never) => (options.push(o), nodeOrt.InferenceSession.create(m, o)),
    } as OrtModule['InferenceSession'],
  };
  return { ort: noting, options };
}
