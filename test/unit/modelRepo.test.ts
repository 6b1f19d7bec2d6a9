import { describe, expect, it } from 'vitest';
import { externalDataUrls, fileNameOfUrl, locateModel } from '../../src/data/modelRepo';

describe('locateModel', () => {
  it('takes a URL naming an .onnx file as that file, relative ones against the page', () => {
    expect(locateModel('https://h.example/a/b/model_fp16.onnx?download=1', 'http://localhost/')).toEqual({
      kind: 'file',
      url: 'https://h.example/a/b/model_fp16.onnx?download=1',
      file: 'model_fp16.onnx',
    });
    expect(locateModel('models/x.onnx', 'http://localhost:4173/app/')).toMatchObject({
      url: 'http://localhost:4173/app/models/x.onnx',
    });
  });

  it("reads any other URL as a repository in transformers.js's layout: onnx/<name><dtype suffix>.onnx", () => {
    const where = locateModel('https://hf.example/Xenova/vit/resolve/main', 'http://localhost/');
    if (where.kind !== 'repository') throw new Error('expected a repository');
    expect(where.base).toBe('https://hf.example/Xenova/vit/resolve/main/onnx/');
    const files = where.candidates.map((c) => c.file);
    expect(files.slice(0, 8)).toEqual([
      'model.onnx',
      'model_fp16.onnx',
      'model_quantized.onnx',
      'model_int8.onnx',
      'model_uint8.onnx',
      'model_q4.onnx',
      'model_q4f16.onnx',
      'model_bnb4.onnx',
    ]);
    expect(files).toContain('decoder_model_merged_q4f16.onnx');
    expect(where.candidates[1]!.url).toBe('https://hf.example/Xenova/vit/resolve/main/onnx/model_fp16.onnx');
    // a URL already at the onnx/ folder is that folder
    expect(locateModel('https://hf.example/r/onnx/', 'http://localhost/')).toMatchObject({
      base: 'https://hf.example/r/onnx/',
    });
  });

  it('refuses what is not an http(s) URL, by name', () => {
    expect(() => locateModel('file:///etc/model.onnx', 'http://localhost/')).toThrow(/only http and https/);
    expect(() => locateModel('http://[bad', 'http://localhost/')).toThrow(/is not a URL/);
  });
});

describe('externalDataUrls', () => {
  it('names the data chunks transformers.js writes beside a model: _data, then _data_1 ...', () => {
    expect(externalDataUrls('https://h/onnx/model.onnx?x=1', 3)).toEqual([
      'https://h/onnx/model.onnx_data?x=1',
      'https://h/onnx/model.onnx_data_1?x=1',
      'https://h/onnx/model.onnx_data_2?x=1',
    ]);
    expect(fileNameOfUrl('https://h/onnx/my%20model.onnx_data')).toBe('my model.onnx_data');
  });
});
