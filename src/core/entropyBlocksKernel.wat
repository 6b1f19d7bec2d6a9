;; The entropy first pass's block sums (src/core/methods/entropyFastBlocks.ts, buildBlockSums) in
;; WebAssembly SIMD, hand-written: for every block [a, a + m) of the positions a run width's candidates
;; cover, the block's level v = trunc(mass / non-zeros) and its terms, summed in strided prefix rows
;; (row j + m = row j + block j). scripts/build-wasm.mjs assembles it (wabt) into
;; src/core/entropyBlocksKernel.wasm.ts at build time; src/core/methods/entropyBlocksKernel.ts loads it
;; and falls back to the JavaScript loop where WASM SIMD is missing.
;;
;; Bit for bit the JavaScript loop's rows: every field is the same float64 operations in the same order
;; (f64x2 lanes only pair two fields' independent `row + weight * g` updates; WASM's f64 add, mul, div
;; and trunc are IEEE 754 round-to-nearest like JavaScript's). log v comes from the table the caller
;; writes at `logs` (Math.log of 0..4095, logTable.ts's values) or, for v >= 4096, from the imported
;; Math.log itself: the same bits as logCount.
;;
;; Memory (byte offsets from the caller): `h` and `z` point at H[lowPos] and Z[lowPos] (float64 prefix
;; sums of counts and non-zero bins), `rows` at row 0, whose first m rows the caller zeroes; `logs`
;; at the 4096-entry log table.
(module
  (import "m" "log" (func $log (param f64) (result f64)))
  (memory (export "memory") 1)

  ;; The short layout, 7 fields a row (56 bytes): u·log v, u/v, u·(1/v)²/2, nz·log v, nz/v, empty
  ;; blocks, Σ v; u = mass + eps·m. Blocks j = 0 .. W - m.
  (func (export "short")
    (param $h i32) (param $z i32) (param $rows i32) (param $logs i32)
    (param $m i32) (param $W i32) (param $epsM f64)
    (local $j i32) (local $from i32) (local $to i32) (local $mb i32)
    (local $nz f64) (local $mass f64) (local $v f64) (local $g0 f64) (local $g1 f64) (local $u f64)
    (local.set $mb (i32.shl (local.get $m) (i32.const 3)))
    (local.set $from (local.get $rows))
    (local.set $to (i32.add (local.get $rows) (i32.mul (local.get $m) (i32.const 56))))
    (block $done
      (loop $blocks
        (br_if $done (i32.gt_s (i32.add (local.get $j) (local.get $m)) (local.get $W)))
        (local.set $nz
          (f64.sub (f64.load (i32.add (local.get $z) (local.get $mb))) (f64.load (local.get $z))))
        (if (f64.eq (local.get $nz) (f64.const 0))
          (then
            ;; an empty block: the row carried over, one more empty block
            (v128.store (local.get $to) (v128.load (local.get $from)))
            (v128.store offset=16 (local.get $to) (v128.load offset=16 (local.get $from)))
            (v128.store offset=32 (local.get $to)
              (f64x2.add (v128.load offset=32 (local.get $from)) (v128.const f64x2 0 1)))
            (f64.store offset=48 (local.get $to) (f64.load offset=48 (local.get $from))))
          (else
            (local.set $mass
              (f64.sub (f64.load (i32.add (local.get $h) (local.get $mb))) (f64.load (local.get $h))))
            (local.set $v (f64.trunc (f64.div (local.get $mass) (local.get $nz))))
            (local.set $g1 (f64.div (f64.const 1) (local.get $v)))
            (local.set $g0
              ;; logCount(v), inline: the table below 4096, Math.log past it
              (if (result f64) (f64.lt (local.get $v) (f64.const 4096))
                (then
                  (f64.load
                    (i32.add (local.get $logs) (i32.shl (i32.trunc_f64_u (local.get $v)) (i32.const 3)))))
                (else (call $log (local.get $v)))))
            (local.set $u (f64.add (local.get $mass) (local.get $epsM)))
            ;; fields 0, 1: + u·g0, u·g1
            (v128.store (local.get $to)
              (f64x2.add (v128.load (local.get $from))
                (f64x2.mul (f64x2.splat (local.get $u))
                  (f64x2.replace_lane 1 (f64x2.splat (local.get $g0)) (local.get $g1)))))
            ;; fields 2, 3: + u·((g1·g1)/2), nz·g0
            (v128.store offset=16 (local.get $to)
              (f64x2.add (v128.load offset=16 (local.get $from))
                (f64x2.mul
                  (f64x2.replace_lane 1 (f64x2.splat (local.get $u)) (local.get $nz))
                  (f64x2.replace_lane 1
                    (f64x2.splat (f64.div (f64.mul (local.get $g1) (local.get $g1)) (f64.const 2)))
                    (local.get $g0)))))
            ;; fields 4, 5: + nz·g1, + 0 (the rows are >= +0, so x + 0 is x)
            (v128.store offset=32 (local.get $to)
              (f64x2.add (v128.load offset=32 (local.get $from))
                (f64x2.replace_lane 0 (v128.const f64x2 0 0) (f64.mul (local.get $nz) (local.get $g1)))))
            ;; field 6: + v
            (f64.store offset=48 (local.get $to)
              (f64.add (f64.load offset=48 (local.get $from)) (local.get $v)))))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (local.set $from (i32.add (local.get $from) (i32.const 56)))
        (local.set $to (i32.add (local.get $to) (i32.const 56)))
        (local.set $h (i32.add (local.get $h) (i32.const 8)))
        (local.set $z (i32.add (local.get $z) (i32.const 8)))
        (br $blocks))))

  ;; The full layout, 10 fields a row (80 bytes): vm·g0..g3, vn·g0..g3, empty blocks, Σ v, with
  ;; g0 = log v, g_k = v^-k / k, vm = mass + eps·m and vn = nz for v > 0, all 0 for an empty block.
  (func (export "full")
    (param $h i32) (param $z i32) (param $rows i32) (param $logs i32)
    (param $m i32) (param $W i32) (param $epsM f64)
    (local $j i32) (local $from i32) (local $to i32) (local $mb i32)
    (local $nz f64) (local $mass f64) (local $v f64) (local $g1 f64) (local $i2 f64)
    (local $g01 v128) (local $g23 v128) (local $vm v128) (local $vn v128) (local $zv v128)
    (local.set $mb (i32.shl (local.get $m) (i32.const 3)))
    (local.set $from (local.get $rows))
    (local.set $to (i32.add (local.get $rows) (i32.mul (local.get $m) (i32.const 80))))
    (block $done
      (loop $blocks
        (br_if $done (i32.gt_s (i32.add (local.get $j) (local.get $m)) (local.get $W)))
        (local.set $nz
          (f64.sub (f64.load (i32.add (local.get $z) (local.get $mb))) (f64.load (local.get $z))))
        (local.set $mass
          (f64.sub (f64.load (i32.add (local.get $h) (local.get $mb))) (f64.load (local.get $h))))
        (local.set $v
          (if (result f64) (f64.ne (local.get $nz) (f64.const 0))
            (then (f64.trunc (f64.div (local.get $mass) (local.get $nz))))
            (else (f64.const 0))))
        (if (f64.gt (local.get $v) (f64.const 0))
          (then
            (local.set $g1 (f64.div (f64.const 1) (local.get $v)))
            (local.set $i2 (f64.mul (local.get $g1) (local.get $g1)))
            (local.set $g01
              (f64x2.replace_lane 1
                (f64x2.splat
                  ;; logCount(v), inline: the table below 4096, Math.log past it
                  (if (result f64) (f64.lt (local.get $v) (f64.const 4096))
                    (then
                      (f64.load
                        (i32.add (local.get $logs) (i32.shl (i32.trunc_f64_u (local.get $v)) (i32.const 3)))))
                    (else (call $log (local.get $v)))))
                (local.get $g1)))
            (local.set $g23
              (f64x2.replace_lane 1
                (f64x2.splat (f64.div (local.get $i2) (f64.const 2)))
                (f64.div (f64.mul (local.get $i2) (local.get $g1)) (f64.const 3))))
            (local.set $vm (f64x2.splat (f64.add (local.get $mass) (local.get $epsM))))
            (local.set $vn (f64x2.splat (local.get $nz)))
            (local.set $zv (f64x2.replace_lane 1 (v128.const f64x2 0 0) (local.get $v))))
          (else
            (local.set $g01 (v128.const f64x2 0 0))
            (local.set $g23 (v128.const f64x2 0 0))
            (local.set $vm (v128.const f64x2 0 0))
            (local.set $vn (v128.const f64x2 0 0))
            ;; zBlocks = 1, and v (0)
            (local.set $zv (f64x2.replace_lane 1 (v128.const f64x2 1 0) (local.get $v)))))
        (v128.store (local.get $to)
          (f64x2.add (v128.load (local.get $from)) (f64x2.mul (local.get $vm) (local.get $g01))))
        (v128.store offset=16 (local.get $to)
          (f64x2.add (v128.load offset=16 (local.get $from)) (f64x2.mul (local.get $vm) (local.get $g23))))
        (v128.store offset=32 (local.get $to)
          (f64x2.add (v128.load offset=32 (local.get $from)) (f64x2.mul (local.get $vn) (local.get $g01))))
        (v128.store offset=48 (local.get $to)
          (f64x2.add (v128.load offset=48 (local.get $from)) (f64x2.mul (local.get $vn) (local.get $g23))))
        (v128.store offset=64 (local.get $to)
          (f64x2.add (v128.load offset=64 (local.get $from)) (local.get $zv)))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (local.set $from (i32.add (local.get $from) (i32.const 80)))
        (local.set $to (i32.add (local.get $to) (i32.const 80)))
        (local.set $h (i32.add (local.get $h) (i32.const 8)))
        (local.set $z (i32.add (local.get $z) (i32.const 8)))
        (br $blocks)))))
