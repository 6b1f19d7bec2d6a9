/**
 * Write the weight-SQNR guard's test model into a folder: the tiny decoder with external data
 * (test/helpers/bigModels.ts) whose `l0_up` weight is heavy-tailed (test/helpers/guardModels.ts), as
 * DIR/broken.onnx + DIR/broken.onnx_data. The page's e2e runs it with tsx (Playwright's loader cannot
 * import the ONNX layer's JSON).
 *   npx tsx scripts/make-weight-guard-model.ts DIR
 */
import { DECODER_TINY, decoderModel, writeGenerated } from '../test/helpers/bigModels';
import { withHeavyTailedWeight } from '../test/helpers/guardModels';

const [dir] = process.argv.slice(2);
if (!dir) {
  console.error('usage: make-weight-guard-model.ts DIR');
  process.exit(2);
}
await writeGenerated(withHeavyTailedWeight(decoderModel(DECODER_TINY), 'l0_up'), dir, 'broken.onnx', true);
