;; The elementwise ops calibration recomputes (src/core/elementwise.ts) in WebAssembly SIMD, hand-written:
;; four float32 lanes a step over arrays in this module's memory (byte offsets from the caller), the
;; same results bit for bit as elementwise.ts's loops. f32x4.add, sub, mul and div are IEEE 754 float32
;; operations rounded to nearest, one an element, as a Float32Array store of the float64 result of two
;; float32 operands is; f32x4.pmax(a, b) is `a < b ? b : a` and f32x4.pmin(a, b) is `b < a ? b : a`
;; (the WebAssembly SIMD spec's pseudo-minimum and maximum), which are std::max and std::min, what
;; Eigen's cwiseMax and cwiseMin (onnxruntime's Relu, Clip, HardSigmoid) and elementwise.ts's
;; comparisons compute, -0 and NaN included. scripts/build-wasm.mjs assembles it (wabt) into
;; src/core/elementwiseKernel.wasm.ts at build time.
(module
  ;; the memory it shares with histogramKernel.wat (kernelMemory.ts): the tensors lie above the
  ;; histogram kernel's scratch, where that kernel bins them in place
  (import "env" "memory" (memory 1))
  (export "memory" (memory 0))

  ;; out[k] = a[k] op b[k], k < n (op: 0 add, 1 sub, 2 mul, 3 div)
  (func $same (param $op i32) (param $a i32) (param $b i32) (param $out i32) (param $n i32)
    (local $end i32) (local $x v128) (local $y v128)
    (local.set $end (i32.add (local.get $out) (i32.shl (i32.and (local.get $n) (i32.const -4)) (i32.const 2))))
    (block $done4
      (loop $four
        (br_if $done4 (i32.ge_u (local.get $out) (local.get $end)))
        (local.set $x (v128.load (local.get $a)))
        (local.set $y (v128.load (local.get $b)))
        (v128.store (local.get $out)
          (if (result v128) (i32.eq (local.get $op) (i32.const 0))
            (then (f32x4.add (local.get $x) (local.get $y)))
            (else (if (result v128) (i32.eq (local.get $op) (i32.const 1))
              (then (f32x4.sub (local.get $x) (local.get $y)))
              (else (if (result v128) (i32.eq (local.get $op) (i32.const 2))
                (then (f32x4.mul (local.get $x) (local.get $y)))
                (else (f32x4.div (local.get $x) (local.get $y)))))))))
        (local.set $a (i32.add (local.get $a) (i32.const 16)))
        (local.set $b (i32.add (local.get $b) (i32.const 16)))
        (local.set $out (i32.add (local.get $out) (i32.const 16)))
        (br $four)))
    (call $tail (local.get $op) (local.get $a) (local.get $b) (local.get $out) (i32.and (local.get $n) (i32.const 3)) (i32.const 1)))

  ;; the last n elements one at a time; b steps by 4 bytes when bStep = 1, stays when 0
  (func $tail (param $op i32) (param $a i32) (param $b i32) (param $out i32) (param $n i32) (param $bStep i32)
    (local $x f32) (local $y f32)
    (block $done
      (loop $one
        (br_if $done (i32.eqz (local.get $n)))
        (local.set $x (f32.load (local.get $a)))
        (local.set $y (f32.load (local.get $b)))
        (f32.store (local.get $out)
          (if (result f32) (i32.eq (local.get $op) (i32.const 0))
            (then (f32.add (local.get $x) (local.get $y)))
            (else (if (result f32) (i32.eq (local.get $op) (i32.const 1))
              (then (f32.sub (local.get $x) (local.get $y)))
              (else (if (result f32) (i32.eq (local.get $op) (i32.const 2))
                (then (f32.mul (local.get $x) (local.get $y)))
                (else (f32.div (local.get $x) (local.get $y)))))))))
        (local.set $a (i32.add (local.get $a) (i32.const 4)))
        (local.set $b (i32.add (local.get $b) (i32.shl (local.get $bStep) (i32.const 2))))
        (local.set $out (i32.add (local.get $out) (i32.const 4)))
        (local.set $n (i32.sub (local.get $n) (i32.const 1)))
        (br $one))))

  ;; out[k] = a[k] op v over n elements, v one float32 (the scalar at $b); swapped: v op a[k]
  (func $withScalar (param $op i32) (param $a i32) (param $v f32) (param $out i32) (param $n i32) (param $swapped i32)
    (local $end i32) (local $x v128) (local $y v128) (local $s f32)
    (local.set $end (i32.add (local.get $out) (i32.shl (i32.and (local.get $n) (i32.const -4)) (i32.const 2))))
    (block $done4
      (loop $four
        (br_if $done4 (i32.ge_u (local.get $out) (local.get $end)))
        (local.set $x (v128.load (local.get $a)))
        (local.set $y (f32x4.splat (local.get $v)))
        (if (local.get $swapped)
          (then
            (local.set $x (local.get $y))
            (local.set $y (v128.load (local.get $a)))))
        (v128.store (local.get $out)
          (if (result v128) (i32.eq (local.get $op) (i32.const 0))
            (then (f32x4.add (local.get $x) (local.get $y)))
            (else (if (result v128) (i32.eq (local.get $op) (i32.const 1))
              (then (f32x4.sub (local.get $x) (local.get $y)))
              (else (if (result v128) (i32.eq (local.get $op) (i32.const 2))
                (then (f32x4.mul (local.get $x) (local.get $y)))
                (else (f32x4.div (local.get $x) (local.get $y)))))))))
        (local.set $a (i32.add (local.get $a) (i32.const 16)))
        (local.set $out (i32.add (local.get $out) (i32.const 16)))
        (br $four)))
    (local.set $n (i32.and (local.get $n) (i32.const 3)))
    (block $done
      (loop $one
        (br_if $done (i32.eqz (local.get $n)))
        (local.set $s (f32.load (local.get $a)))
        (f32.store (local.get $out)
          (if (result f32) (i32.eq (local.get $op) (i32.const 0))
            (then (if (result f32) (local.get $swapped)
              (then (f32.add (local.get $v) (local.get $s))) (else (f32.add (local.get $s) (local.get $v)))))
            (else (if (result f32) (i32.eq (local.get $op) (i32.const 1))
              (then (if (result f32) (local.get $swapped)
                (then (f32.sub (local.get $v) (local.get $s))) (else (f32.sub (local.get $s) (local.get $v)))))
              (else (if (result f32) (i32.eq (local.get $op) (i32.const 2))
                (then (if (result f32) (local.get $swapped)
                  (then (f32.mul (local.get $v) (local.get $s))) (else (f32.mul (local.get $s) (local.get $v)))))
                (else (if (result f32) (local.get $swapped)
                  (then (f32.div (local.get $v) (local.get $s))) (else (f32.div (local.get $s) (local.get $v)))))))))))
        (local.set $a (i32.add (local.get $a) (i32.const 4)))
        (local.set $out (i32.add (local.get $out) (i32.const 4)))
        (local.set $n (i32.sub (local.get $n) (i32.const 1)))
        (br $one))))

  ;; out = a op b for a whole and b constant over runs of `run` elements (b[j] for run j; swapped: b op a),
  ;; n = runs · run
  (export "runs" (func $runs))
  (func $runs (param $op i32) (param $a i32) (param $b i32) (param $out i32) (param $n i32) (param $run i32) (param $swapped i32)
    (local $j i32) (local $step i32)
    (local.set $step (i32.shl (local.get $run) (i32.const 2)))
    (block $done
      (loop $each
        (br_if $done (i32.ge_u (local.get $j) (local.get $n)))
        (call $withScalar (local.get $op) (local.get $a) (f32.load (local.get $b)) (local.get $out) (local.get $run) (local.get $swapped))
        (local.set $a (i32.add (local.get $a) (local.get $step)))
        (local.set $out (i32.add (local.get $out) (local.get $step)))
        (local.set $b (i32.add (local.get $b) (i32.const 4)))
        (local.set $j (i32.add (local.get $j) (local.get $run)))
        (br $each))))

  (export "same" (func $same))

  (func (export "scalar") (param $op i32) (param $a i32) (param $v f32) (param $out i32) (param $n i32) (param $swapped i32)
    (call $withScalar (local.get $op) (local.get $a) (local.get $v) (local.get $out) (local.get $n) (local.get $swapped)))

  ;; out[k] = pmin(pmax(x[k], lo), hi): Clip (and Relu: lo = 0, hi = +Infinity, pmin(v, +Inf) is v, NaN included)
  (func (export "clip") (param $x i32) (param $out i32) (param $n i32) (param $lo f32) (param $hi f32)
    (local $end i32) (local $l v128) (local $h v128)
    (local.set $l (f32x4.splat (local.get $lo)))
    (local.set $h (f32x4.splat (local.get $hi)))
    (local.set $end (i32.add (local.get $out) (i32.shl (local.get $n) (i32.const 2))))
    (block $done4
      (loop $four
        (br_if $done4 (i32.gt_u (i32.add (local.get $out) (i32.const 16)) (local.get $end)))
        (v128.store (local.get $out) (f32x4.pmin (f32x4.pmax (v128.load (local.get $x)) (local.get $l)) (local.get $h)))
        (local.set $x (i32.add (local.get $x) (i32.const 16)))
        (local.set $out (i32.add (local.get $out) (i32.const 16)))
        (br $four)))
    (block $done
      (loop $one
        (br_if $done (i32.ge_u (local.get $out) (local.get $end)))
        ;; one lane the same way: pmax, then pmin, in lane 0
        (f32.store (local.get $out)
          (f32x4.extract_lane 0
            (f32x4.pmin (f32x4.pmax (f32x4.splat (f32.load (local.get $x))) (local.get $l)) (local.get $h))))
        (local.set $x (i32.add (local.get $x) (i32.const 4)))
        (local.set $out (i32.add (local.get $out) (i32.const 4)))
        (br $one))))

  ;; out[k] = pmax(pmin(alpha·x[k] + beta, 1), 0), the product and the sum each rounded to float32
  (func (export "hardSigmoid") (param $x i32) (param $out i32) (param $n i32) (param $alpha f32) (param $beta f32)
    (local $end i32) (local $a v128) (local $b v128) (local $one v128) (local $zero v128)
    (local.set $a (f32x4.splat (local.get $alpha)))
    (local.set $b (f32x4.splat (local.get $beta)))
    (local.set $one (f32x4.splat (f32.const 1)))
    (local.set $end (i32.add (local.get $out) (i32.shl (local.get $n) (i32.const 2))))
    (block $done4
      (loop $four
        (br_if $done4 (i32.gt_u (i32.add (local.get $out) (i32.const 16)) (local.get $end)))
        (v128.store (local.get $out)
          (f32x4.pmax
            (f32x4.pmin (f32x4.add (f32x4.mul (local.get $a) (v128.load (local.get $x))) (local.get $b)) (local.get $one))
            (local.get $zero)))
        (local.set $x (i32.add (local.get $x) (i32.const 16)))
        (local.set $out (i32.add (local.get $out) (i32.const 16)))
        (br $four)))
    (block $done
      (loop $one
        (br_if $done (i32.ge_u (local.get $out) (local.get $end)))
        (f32.store (local.get $out)
          (f32x4.extract_lane 0
            (f32x4.pmax
              (f32x4.pmin
                (f32x4.add (f32x4.mul (local.get $a) (f32x4.splat (f32.load (local.get $x)))) (local.get $b))
                (local.get $one))
              (local.get $zero))))
        (local.set $x (i32.add (local.get $x) (i32.const 4)))
        (local.set $out (i32.add (local.get $out) (i32.const 4)))
        (br $one)))))
