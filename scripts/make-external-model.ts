/**
 * Write the tiny decoder-shaped test model with external data (test/helpers/bigModels.ts) into a
 * folder: DIR/decoder.onnx and DIR/decoder.onnx_data. The page's e2e runs it (`npx tsx`), since
 * Playwright's loader cannot import the ONNX layer's JSON.
 *   npx tsx scripts/make-external-model.ts DIR
 */
import { DECODER_TINY, decoderModel, writeGenerated } from '../test/helpers/bigModels';

const dir = process.argv[2];
if (!dir) {
  console.error('usage: make-external-model.ts DIR');
  process.exit(2);
}
const { result } = await writeGenerated(decoderModel(DECODER_TINY), dir, 'decoder.onnx', true);
console.log(JSON.stringify(result));
