/**
 * Errors a user can see. Each has a stable code (tests pin them) and a message that names the
 * file, node or tensor at fault.
 */
export type ErrorCode =
  | 'EMPTY_FILE'
  | 'NOT_ONNX'
  | 'TRUNCATED'
  | 'NO_GRAPH'
  | 'MODEL_TOO_LARGE'
  | 'EXTERNAL_DATA'
  | 'EXTERNAL_DATA_MISSING'
  | 'EXTERNAL_DATA_SHORT'
  | 'UNSUPPORTED_OPSET'
  | 'UNSUPPORTED_OP'
  | 'UNSUPPORTED_DTYPE'
  | 'BAD_TENSOR'
  | 'NON_FINITE'
  | 'BAD_DATA'
  | 'BAD_RANGE'
  | 'NO_STATISTICS'
  | 'BUSY'
  | 'CANCELLED'
  | 'RUNTIME'
  /** a worker ended by an error outside any job's own handling (a script error, a crashed wasm module) */
  | 'WORKER_FAILED'
  | 'CHECK_STALLED'
  | 'TFLITE_UNSUPPORTED'
  | 'TFLITE_NO_RANGE'
  | 'TFLITE_DYNAMIC_SHAPE'
  | 'TFLITE_SCHEMA'
  | 'BAD_URL'
  | 'URL_FETCH'
  | 'URL_CORS';

export class QuantscopeError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string) {
    super(message);
    this.name = 'QuantscopeError';
    this.code = code;
  }
}

export function isQuantscopeError(e: unknown): e is QuantscopeError {
  return e instanceof Error && e.name === 'QuantscopeError' && typeof (e as QuantscopeError).code === 'string';
}

/** A plain, structured-clone-safe description of any thrown value. */
export interface ErrorInfo {
  readonly code: ErrorCode;
  readonly message: string;
}

export function toErrorInfo(e: unknown): ErrorInfo {
  if (isQuantscopeError(e)) return { code: e.code, message: e.message };
  if (e instanceof Error) return { code: 'RUNTIME', message: e.message };
  return { code: 'RUNTIME', message: String(e) };
}
