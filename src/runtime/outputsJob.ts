/**
 * One model's output on each sample, sent back whole: the reference the page checks a file it runs
 * itself against (a .tflite in TFLite's interpreter on the page's thread: state/tfliteGuard.ts), where
 * the guard rail (guardRun.ts) runs both models here.
 */
import { QuantscopeError, toErrorInfo } from '../core/errors';
import { materializeSample } from '../data/samples';
import { toOrtFeeds, type OrtModule, type Tensor } from './ort';
import type { OutputsRequest, SampleOutput, WorkerReply } from './protocol';
import type { SerialQueue } from './serialQueue';
import { modelBytes } from './speedJob';
import { listSampleAt, runOnSample } from './sampleRun';

export async function runOutputsJob(
  ort: OrtModule,
  req: OutputsRequest,
  queue: SerialQueue,
  emit: (m: WorkerReply, transfer?: Transferable[]) => void,
): Promise<void> {
  try {
    const bytes = await modelBytes(req.model);
    const options = {
      executionProviders: [req.backend],
      ...(req.externalData?.length ? { externalData: [...req.externalData] } : {}),
    };
    const session = await queue.run(() => ort.InferenceSession.create(bytes, options));
    const outputs: SampleOutput[] = [];
    try {
      if (!session.outputNames.includes(req.output))
        throw new QuantscopeError('RUNTIME', `the model has no output "${req.output}"`);
      for (let i = 0; i < req.samples.length; i++) {
        const feeds = materializeSample(req.samples[i]!);
        const out = await runOnSample(
          () => queue.run(() => session.run(toOrtFeeds(ort, feeds), [req.output])),
          feeds,
          listSampleAt(req.samples, i),
          'the float model',
        );
        const t = out[req.output] as Tensor;
        if (t.type !== 'float32')
          throw new QuantscopeError(
            'RUNTIME',
            `output "${req.output}" is ${t.type}, not float32: the check compares float outputs`,
          );
        const inputs = req.withInputs
          ? Object.fromEntries(
              Object.entries(feeds)
                .filter(([, f]) => f.data instanceof Float32Array)
                .map(([k, f]) => [k, { dims: [...f.dims], data: f.data as Float32Array }]),
            )
          : undefined;
        outputs.push({ dims: [...t.dims], data: t.data as Float32Array, ...(inputs ? { inputs } : {}) });
      }
    } finally {
      await queue.run(() => session.release());
    }
    emit({ type: 'outputsDone', id: req.id, outputs }, [
      ...new Set(
        outputs.flatMap((o) => [o.data, ...Object.values(o.inputs ?? {}).map((x) => x.data)].map((a) => a.buffer)),
      ),
    ] as ArrayBuffer[]);
  } catch (e) {
    emit({ type: 'error', id: req.id, error: toErrorInfo(e) });
  }
}
