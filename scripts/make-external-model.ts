/**
 * Write a generated test model (test/helpers/bigModels.ts) into a folder: by default the tiny
 * decoder-shaped model with external data (DIR/decoder.onnx + DIR/decoder.onnx_data, for the page's
 * e2e), with `vit` the ViT-B/16-sized model as one file (DIR/vit.onnx, 344 MB, for the page's bench), or
 * with `decoder LAYERS` the real-size decoder with external data, LAYERS deep (12: 2.55 GB; each layer
 * 201 MB), as DIR/decoder.onnx + DIR/decoder.onnx_data.
 * The page's tests run it with tsx, since Playwright's loader cannot import the ONNX layer's JSON.
 *   npx tsx scripts/make-external-model.ts DIR [vit | decoder LAYERS]
 */
import {
  DECODER_2_5GB,
  DECODER_TINY,
  decoderModel,
  VIT_B16,
  vitModel,
  writeGenerated,
} from '../test/helpers/bigModels';

const [dir, kind, layers] = process.argv.slice(2);
if (!dir || (kind === 'decoder' && !(Number(layers) >= 1))) {
  console.error('usage: make-external-model.ts DIR [vit | decoder LAYERS]');
  process.exit(2);
}
const { result } =
  kind === 'vit'
    ? await writeGenerated(vitModel(VIT_B16), dir, 'vit.onnx', false)
    : kind === 'decoder'
      ? await writeGenerated(decoderModel({ ...DECODER_2_5GB, layers: Number(layers) }), dir, 'decoder.onnx', true)
      : await writeGenerated(decoderModel(DECODER_TINY), dir, 'decoder.onnx', true);
console.log(JSON.stringify(result));
