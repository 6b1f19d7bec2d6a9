/** The tensors a model is fed: plain typed arrays with a type and dims (onnxruntime makes its Tensors from them). */
export type FeedType = 'float32' | 'int64' | 'int32' | 'uint8' | 'int8' | 'int16' | 'uint16' | 'bool';
export type FeedData = Float32Array | BigInt64Array | Int32Array | Uint8Array | Int8Array | Int16Array | Uint16Array;

export interface FeedTensor {
  /** Defaults to float32. */
  readonly type?: FeedType;
  readonly data: FeedData;
  readonly dims: readonly number[];
}

export type Feeds = Readonly<Record<string, FeedTensor>>;
