/**
 * Which builtin ops TFLite Micro registers, and whether each has an int8 kernel: data, read from the
 * source named below (nothing here is inferred by the writer).
 */
export const MICRO_TABLE = {
  source:
    'tensorflow/tflite-micro, tensorflow/lite/micro/micro_mutable_op_resolver.h at commit 03c312b17dfae17a8ed7e21c5bdf66bb967a07cd (the Add* registrations) and the int8 branches of the kernels in tensorflow/lite/micro/kernels at the same commit',
  note: 'registered: MicroMutableOpResolver has an Add<Op>() for the builtin. int8: its kernel has an int8 (kTfLiteInt8) path. Ops absent from the table are not registered.',
  ops: {
    ADD: {
      registered: true,
      int8: true,
    },
    AVERAGE_POOL_2D: {
      registered: true,
      int8: true,
    },
    CONCATENATION: {
      registered: true,
      int8: true,
    },
    CONV_2D: {
      registered: true,
      int8: true,
    },
    DEPTHWISE_CONV_2D: {
      registered: true,
      int8: true,
    },
    DEQUANTIZE: {
      registered: true,
      int8: true,
    },
    FULLY_CONNECTED: {
      registered: true,
      int8: true,
    },
    HARD_SWISH: {
      registered: true,
      int8: true,
    },
    LOGISTIC: {
      registered: true,
      int8: true,
    },
    MAXIMUM: {
      registered: true,
      int8: true,
    },
    MAX_POOL_2D: {
      registered: true,
      int8: true,
    },
    MEAN: {
      registered: true,
      int8: true,
    },
    MINIMUM: {
      registered: true,
      int8: true,
    },
    MUL: {
      registered: true,
      int8: true,
    },
    PAD: {
      registered: true,
      int8: true,
    },
    QUANTIZE: {
      registered: true,
      int8: true,
    },
    RELU: {
      registered: true,
      int8: true,
    },
    RELU6: {
      registered: true,
      int8: true,
    },
    RESHAPE: {
      registered: true,
      int8: true,
    },
    RESIZE_BILINEAR: {
      registered: true,
      int8: true,
    },
    RESIZE_NEAREST_NEIGHBOR: {
      registered: true,
      int8: true,
    },
    SOFTMAX: {
      registered: true,
      int8: true,
    },
    SQUEEZE: {
      registered: true,
      int8: true,
    },
    STRIDED_SLICE: {
      registered: true,
      int8: true,
    },
    SUB: {
      registered: true,
      int8: true,
    },
    TANH: {
      registered: true,
      int8: true,
    },
    TRANSPOSE: {
      registered: true,
      int8: true,
    },
    TRANSPOSE_CONV: {
      registered: true,
      int8: true,
    },
    RELU_N1_TO_1: {
      registered: false,
      int8: false,
    },
    SLICE: {
      registered: false,
      int8: false,
    },
  },
} as const;
