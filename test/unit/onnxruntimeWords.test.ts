import { describe, expect, it } from 'vitest';
import { onnxruntimeWords } from '../../src/runtime/sampleRun';

describe('onnxruntimeWords', () => {
  it("keeps onnxruntime's words and drops the wrapper, the build path and the C++ signature", () => {
    // onnxruntime-web 1.x on PP-OCRv4 det fed a 48x4 image (seen in the page)
    const web =
      'failed to call OrtRun(). ERROR_CODE: 1, ERROR_MESSAGE: /mnt/azure_nvme_temp/_work/1/s/onnxruntime/core/providers/cpu/math/element_wise_ops.h:583 void onnxruntime::BroadcastIterator::Append(ptrdiff_t, ptrdiff_t) axis == 1 || axis == largest was false. Attempting to broadcast an axis by a dimension other than 1. 3 by 4';
    expect(onnxruntimeWords(web)).toBe('Attempting to broadcast an axis by a dimension other than 1. 3 by 4');
    const node =
      "Non-zero status code returned while running Add node. Name:'p2o.Add.248' Status Message: /onnxruntime_src/onnxruntime/core/providers/cpu/math/element_wise_ops.h:583 void onnxruntime::BroadcastIterator::Append(ptrdiff_t, ptrdiff_t) axis == 1 || axis == largest was false. Attempting to broadcast an axis by a dimension other than 1. 3 by 4";
    expect(onnxruntimeWords(node)).toBe(
      "Non-zero status code returned while running Add node. Name:'p2o.Add.248' Status Message: Attempting to broadcast an axis by a dimension other than 1. 3 by 4",
    );
    // a message without either is kept, its line breaks folded
    expect(onnxruntimeWords('Got invalid dimensions for input: x\n index: 1 Got: 8 Expected: 16\n')).toBe(
      'Got invalid dimensions for input: x index: 1 Got: 8 Expected: 16',
    );
  });
});
