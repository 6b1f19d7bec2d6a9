/**
 * Writing an export from the command line, streamed: the form runs with its new large tensors
 * spilled to a spool file as they are made (onnx/externalData.ts spillLargeTensors), then the writer
 * (onnx/writeModel.ts) copies tensor by tensor into OUT.onnx, or OUT.onnx plus OUT.onnx_data when
 * the output passes 2 GiB or --external-data asks. Both files are written under temporary names and
 * renamed only when both are complete; on any error neither is left.
 */
import { basename, dirname, join } from 'node:path';
import { rmSync } from 'node:fs';
import {
  newStreamStats,
  spillLargeTensors,
  writeModel,
  dataFileNameFor,
  type ModelProto,
  type StreamStats,
} from '../onnx';
import { fileSink, fileSpool } from '../runtime/nodeFiles';

export interface WrittenExport<R> {
  readonly result: R;
  readonly model: ModelProto;
  readonly external: boolean;
  readonly bytes: number;
  readonly dataFile: string | null;
  readonly stats: StreamStats;
}

export async function writeExportStreamed<R extends { model: ModelProto }>(
  out: string,
  form: () => R,
  opts: { forceExternal?: boolean } = {},
): Promise<WrittenExport<R>> {
  const dataName = dataFileNameFor(out);
  const dataPath = join(dirname(out), dataName);
  const stats = newStreamStats();
  const onnx = fileSink(out); // first: an output that cannot be written is named before any work
  let data: ReturnType<typeof fileSink> | undefined;
  let spool: ReturnType<typeof fileSpool> | undefined;
  try {
    spool = fileSpool(join(dirname(out), `.${basename(out)}.${process.pid}.spool`));
    data = fileSink(dataPath);
    const result = spillLargeTensors(spool, stats, form);
    const w = await writeModel(result.model, onnx, data, {
      dataFileName: dataName,
      ...(opts.forceExternal ? { externalAbove: 0 } : {}),
    });
    if (w.external) data.commit();
    else {
      data.abort();
      rmSync(dataPath, { force: true }); // a stale data file of an earlier export is not this model's
    }
    onnx.commit();
    return {
      result,
      model: result.model,
      external: w.external,
      bytes: w.onnxBytes + w.dataBytes,
      dataFile: w.external ? dataPath : null,
      stats,
    };
  } catch (e) {
    onnx.abort();
    data?.abort();
    throw e;
  } finally {
    spool?.close();
  }
}
