/**
 * Writing an export from the command line, streamed: the form runs with its new large tensors
 * spilled to a spool file as they are made (onnx/externalData.ts spillLargeTensors), then the writer
 * (onnx/writeModel.ts) copies tensor by tensor into OUT.onnx, or OUT.onnx plus OUT.onnx_data when
 * the output passes 2 GiB or --external-data asks. Both files are written under temporary names and
 * renamed only when both are complete; on any error neither is left, and the files an earlier export
 * left under those names stay as they were.
 */
import { basename, dirname, join } from 'node:path';
import { lstatSync, renameSync, rmSync } from 'node:fs';
import {
  newStreamStats,
  spillLargeTensors,
  writeModel,
  dataFileNameFor,
  type ModelProto,
  type StreamStats,
} from '../onnx';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { fileSink, fileSpool } from '../runtime/nodeFiles';

/**
 * A full garbage collection, run after each large weight is spilled or written. A weight's working
 * copies (its float values, the transposed matrix, the codes: ~200 MB for a 2048×8192 weight) are
 * garbage the moment the weight is spilled, but V8 collects ArrayBuffers only when its external-memory
 * heuristics say so, which let two or three weights' garbage pile up (peak RSS 550-850 MiB measured
 * on the 2.5 GB decoder). Collecting here keeps the peak near one weight's working set, for a few ms a
 * weight. `--expose-gc` set at run time exposes gc to a new context (Node's documented v8 flag).
 */
const collect: () => void = (() => {
  try {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as unknown;
    return typeof gc === 'function' ? (gc as () => void) : () => undefined;
  } catch {
    return () => undefined;
  }
})();

/** Collect after every this many bytes spilled or written. */
const COLLECT_EVERY = 32 * 1024 * 1024;

/**
 * The data file, then the .onnx that names it, into place: where the .onnx cannot be renamed in (a
 * directory of that name, say), the data file an earlier export left there is put back, so a failed
 * export replaces nothing. The earlier data file waits under a temporary name until the .onnx is in.
 */
function commitPair(data: { commit(): void }, onnx: { commit(): void }, dataPath: string): void {
  const aside = join(dirname(dataPath), `.${basename(dataPath)}.${process.pid}.old`);
  // a file only: a directory of that name stays, and the data file's own rename names it
  const hadData = lstatSync(dataPath, { throwIfNoEntry: false })?.isFile() ?? false;
  if (hadData) renameSync(dataPath, aside);
  try {
    data.commit();
    onnx.commit();
  } catch (e) {
    rmSync(dataPath, { force: true });
    if (hadData) renameSync(aside, dataPath);
    throw e;
  }
  if (hadData) rmSync(aside, { force: true });
}

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
    const file = fileSpool(join(dirname(out), `.${basename(out)}.${process.pid}.spool`));
    let since = 0;
    const maybeCollect = (bytes: number) => {
      since += bytes;
      if (since < COLLECT_EVERY) return;
      since = 0;
      collect();
    };
    spool = {
      ...file,
      get size() {
        return file.size;
      },
      append: (bytes: Uint8Array) => {
        const at = file.append(bytes);
        maybeCollect(bytes.length);
        return at;
      },
    };
    data = fileSink(dataPath);
    const result = spillLargeTensors(spool, stats, form);
    let written = 0;
    const w = await writeModel(result.model, onnx, data, {
      dataFileName: dataName,
      onTensor: () => {
        const now = onnx.bytes + data!.bytes;
        maybeCollect(now - written);
        written = now;
      },
      ...(opts.forceExternal ? { externalAbove: 0 } : {}),
    });
    if (w.external) commitPair(data, onnx, dataPath);
    else {
      data.abort();
      onnx.commit();
      rmSync(dataPath, { force: true }); // a stale data file of an earlier export is not this model's
    }
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
