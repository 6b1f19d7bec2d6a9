;; PyTorch HistogramObserver's quantization error (src/core/torchHistogramError.ts, torchQuantizationError:
;; _compute_quantization_error of torch/ao/quantization/observer.py, PyTorch 1.13, in float32) in
;; WebAssembly SIMD, hand-written: four bins at a time in f32x4 lanes. scripts/build-wasm.mjs assembles
;; it (wabt) into src/core/torchErrorKernel.wasm.ts at build time; src/core/torchErrorKernel.ts loads it
;; and torchQuantizationError falls back to the JavaScript loop where WASM SIMD is missing.
;;
;; Bit for bit the JavaScript loop's total:
;;  - each bin's norm is the same float32 operations in the same order: WASM's f32 add, sub, mul and div
;;    are IEEE 754 round-to-nearest-even, with subnormals, which is exactly Math.fround of the float64
;;    operation on float32 inputs (float64 holds more than 2·24 + 2 bits, so rounding twice through it
;;    never differs); third32(y) = f32(y · (1/3)) is f32(y / 3) (torchHistogramError.ts, tested on every
;;    mantissa), here an f32x4.div by 3;
;;  - the floors, clamped to [0, last], come first from float32 quotients a · f32(1 / dw): where every
;;    live lane's quotient is clearly between two integers or clearly past the clamp (the bound is
;;    proven where it is used), they are floorDiv32's, clamped. The other groups (~1.5% on PP-OCRv4
;;    det's histograms: bins on or near a destination edge) run floorDiv32's fast path in f64x2 lanes,
;;    its very float64 steps (q = a · inv, its floor, the 1e-6 window, the exact-integer check
;;    r · dw = a); a lane outside that too (|q| >= 2^22, NaN, or within 1e-6 of an integer it is not)
;;    makes the four bins' eight floors come from the imported floorDiv32 itself (divFloor32 needs
;;    fmod, which WASM lacks): rare, and the same values by construction;
;;  - the norms are added to a float64 total in bin order, one lane after the other, as the loop does;
;;    an empty bin's lane is masked to +0 (the loop skips it; adding +0 to a total that starts at +0
;;    changes nothing, and masking also drops what an empty bin's terms could be: 0 · Inf).
;;
;; Memory (byte offsets from the caller): `counts` points at the float32 counts, padded with zeros to
;; a multiple of four (`groups` groups of four).
(module
  (import "m" "floorDiv" (func $floorDiv (param f64 f64 f64) (result f64)))
  (memory (export "memory") 1)

  ;; floorDiv32 itself on two lanes (the imported JavaScript function).
  (func $floorSlow (param $a v128) (param $dw f32) (param $inv f64) (result v128)
    (f64x2.replace_lane 1
      (f64x2.splat
        (call $floorDiv (f64x2.extract_lane 0 (local.get $a)) (f64.promote_f32 (local.get $dw)) (local.get $inv)))
      (call $floorDiv (f64x2.extract_lane 1 (local.get $a)) (f64.promote_f32 (local.get $dw)) (local.get $inv))))

  ;; The total of the bins' norms (float64; the caller rounds it to float32). The float32 terms are
  ;; torchQuantizationError's: bw, dw, halfDw, middle = cubeDiff(-dw/2, dw/2), halfCube and
  ;; negHalfCube the fixed ends' cubes; last = dstBins - 1, inv = 1 / dw; inv32 = f32(1 / dw), and
  ;; approx = 1 where the float32 quotients' bound holds (dw and 1 / dw normal, last + 2 <= 2048).
  (func (export "total")
    (param $counts i32) (param $groups i32) (param $startBin i32)
    (param $bw f32) (param $dw f32) (param $halfDw f32) (param $middle f32)
    (param $halfCube f32) (param $negHalfCube f32) (param $last f64) (param $inv f64)
    (param $inv32 f32) (param $approx i32)
    (result f64)
    (local $p i32) (local $end i32) (local $i i32) (local $total f64)
    (local $invV v128) (local $dwV v128) (local $lastV v128) (local $near v128) (local $far v128)
    (local $c v128) (local $live v128) (local $begin v128) (local $stop v128)
    (local $bLo v128) (local $bHi v128) (local $eLo v128) (local $eHi v128)
    (local $dbLo v128) (local $dbHi v128) (local $deLo v128) (local $deHi v128)
    (local $q v128) (local $f v128) (local $frac v128) (local $inside v128) (local $r v128) (local $ok v128)
    (local $dB v128) (local $dE v128) (local $density v128) (local $x v128) (local $norm v128)
    (local $limit v128) (local $bwV v128) (local $dw4 v128) (local $halfDwV v128) (local $middleV v128)
    (local $halfCubeV v128) (local $negHalfCubeV v128) (local $three v128)
    (local $inv4 v128) (local $near4 v128) (local $far4 v128) (local $beyond v128) (local $inf v128) (local $last4 v128)
    (local.set $limit (v128.const f64x2 4194304 4194304))
    (local.set $bwV (f32x4.splat (local.get $bw)))
    (local.set $dw4 (f32x4.splat (local.get $dw)))
    (local.set $halfDwV (f32x4.splat (local.get $halfDw)))
    (local.set $middleV (f32x4.splat (local.get $middle)))
    (local.set $halfCubeV (f32x4.splat (local.get $halfCube)))
    (local.set $negHalfCubeV (f32x4.splat (local.get $negHalfCube)))
    (local.set $three (v128.const f32x4 3 3 3 3))
    (local.set $inv4 (f32x4.splat (local.get $inv32)))
    (local.set $near4 (v128.const f32x4 0x1p-10 0x1p-10 0x1p-10 0x1p-10))
    (local.set $far4 (v128.const f32x4 0x1.ff8p-1 0x1.ff8p-1 0x1.ff8p-1 0x1.ff8p-1))
    (local.set $last4 (f32x4.splat (f32.demote_f64 (local.get $last))))
    (local.set $beyond (f32x4.splat (f32.demote_f64 (f64.add (local.get $last) (f64.const 2)))))
    (local.set $inf (v128.const f32x4 inf inf inf inf))
    (local.set $invV (f64x2.splat (local.get $inv)))
    (local.set $dwV (f64x2.splat (f64.promote_f32 (local.get $dw))))
    (local.set $lastV (f64x2.splat (local.get $last)))
    ;; JavaScript's 1e-6 and 1 - 1e-6, written exactly
    (local.set $near (v128.const f64x2 0x1.0c6f7a0b5ed8dp-20 0x1.0c6f7a0b5ed8dp-20))
    (local.set $far (v128.const f64x2 0x1.ffffde7210be9p-1 0x1.ffffde7210be9p-1))
    (local.set $p (local.get $counts))
    (local.set $end (i32.add (local.get $counts) (i32.shl (local.get $groups) (i32.const 4))))
    (local.set $i (i32.sub (i32.const 0) (local.get $startBin)))
    (block $done
      (loop $group
        (br_if $done (i32.ge_u (local.get $p) (local.get $end)))
        (local.set $c (v128.load (local.get $p)))
        (local.set $live (f32x4.ne (local.get $c) (v128.const f32x4 0 0 0 0)))
        (if (v128.any_true (local.get $live))
          (then
            ;; begin = f32(f32(i - startBin) · bw), end = f32(begin + bw)
            (local.set $begin
              (f32x4.mul
                (f32x4.convert_i32x4_s (i32x4.add (i32x4.splat (local.get $i)) (v128.const i32x4 0 1 2 3)))
                (local.get $bwV)))
            (local.set $stop (f32x4.add (local.get $begin) (local.get $bwV)))
            ;; dBegin, dEnd clamped to [0, last], first from float32 quotients: q = a · f32(1 / dw) is
            ;; within |q| · 2^-22.9 of a / dw (two float32 roundings; dw and 1 / dw normal, and so is a
            ;; q that passes below), under 2.5e-4 for |q| < 2048; q - floor(q) is exact but for q in
            ;; (-1, 0) (then off by <= 2^-25).
            ;;  - |q| < last + 2 (<= 2048) and q over 2^-10 from an integer: floor(q) = floor(a / dw),
            ;;    which floorDiv32 gives too (its float64 quotient is over 1e-6 from an integer: its fast
            ;;    path's floor);
            ;;  - last + 2 <= |q| < Inf: a / dw is past last + 1 (or -last - 1), so floorDiv32's result
            ;;    (the exact floor; past 2^22 divFloor32's, as far out) and floor(q) clamp alike;
            ;;  - any other live lane (q near an integer, or not finite: a bin's end past float32) sends
            ;;    the group to floorDiv32's own steps.
            ;; The caller passes approx = 0 where dw or 1 / dw is not normal or last + 2 > 2048.
            (local.set $q (f32x4.mul (local.get $begin) (local.get $inv4)))
            (local.set $dB (f32x4.floor (local.get $q)))
            (local.set $frac (f32x4.sub (local.get $q) (local.get $dB)))
            (local.set $ok
              (v128.or
                (v128.and (f32x4.gt (local.get $frac) (local.get $near4)) (f32x4.lt (local.get $frac) (local.get $far4)))
                (v128.and
                  (f32x4.ge (f32x4.abs (local.get $q)) (local.get $beyond))
                  (f32x4.lt (f32x4.abs (local.get $q)) (local.get $inf)))))
            (local.set $q (f32x4.mul (local.get $stop) (local.get $inv4)))
            (local.set $dE (f32x4.floor (local.get $q)))
            (local.set $frac (f32x4.sub (local.get $q) (local.get $dE)))
            (local.set $ok
              (v128.and (local.get $ok)
                (v128.or
                  (v128.and (f32x4.gt (local.get $frac) (local.get $near4)) (f32x4.lt (local.get $frac) (local.get $far4)))
                  (v128.and
                    (f32x4.ge (f32x4.abs (local.get $q)) (local.get $beyond))
                    (f32x4.lt (f32x4.abs (local.get $q)) (local.get $inf))))))
            (if (i32.and (local.get $approx) (i32.eqz (v128.any_true (v128.andnot (local.get $live) (local.get $ok)))))
              (then
                (local.set $dB (f32x4.pmin (f32x4.pmax (local.get $dB) (v128.const f32x4 0 0 0 0)) (local.get $last4)))
                (local.set $dE (f32x4.pmin (f32x4.pmax (local.get $dE) (v128.const f32x4 0 0 0 0)) (local.get $last4))))
              (else
                ;; else floorDiv32's own steps, in float64
                (local.set $bLo (f64x2.promote_low_f32x4 (local.get $begin)))
                (local.set $bHi
                  (f64x2.promote_low_f32x4
                    (i8x16.shuffle 8 9 10 11 12 13 14 15 8 9 10 11 12 13 14 15 (local.get $begin) (local.get $begin))))
                (local.set $eLo (f64x2.promote_low_f32x4 (local.get $stop)))
                (local.set $eHi
                  (f64x2.promote_low_f32x4
                    (i8x16.shuffle 8 9 10 11 12 13 14 15 8 9 10 11 12 13 14 15 (local.get $stop) (local.get $stop))))
                ;; dBegin, dEnd = floorDiv32(begin or end, dw, inv) where its fast path answers, four times
                ;; two lanes: q = a · inv; away from an integer (frac in (1e-6, 1 - 1e-6)) floor(q); else the
                ;; integer q is within 1e-6 of (nearest: no tie can occur there) if it times dw is a, exact
                ;; in float64 (|r| < 2^22, dw a float32); else the lane is not $ok
                (local.set $ok (v128.const i32x4 -1 -1 -1 -1))
                (local.set $q (f64x2.mul (local.get $bLo) (local.get $invV)))
                (local.set $f (f64x2.floor (local.get $q)))
                (local.set $frac (f64x2.sub (local.get $q) (local.get $f)))
                (local.set $inside
                  (v128.and (f64x2.gt (local.get $frac) (local.get $near)) (f64x2.lt (local.get $frac) (local.get $far))))
                (local.set $r (f64x2.nearest (local.get $q)))
                (local.set $ok
                  (v128.and (local.get $ok)
                    (v128.and (f64x2.lt (f64x2.abs (local.get $q)) (local.get $limit))
                      (v128.or (local.get $inside) (f64x2.eq (f64x2.mul (local.get $r) (local.get $dwV)) (local.get $bLo))))))
                (local.set $dbLo (v128.bitselect (local.get $f) (local.get $r) (local.get $inside)))
                (local.set $q (f64x2.mul (local.get $bHi) (local.get $invV)))
                (local.set $f (f64x2.floor (local.get $q)))
                (local.set $frac (f64x2.sub (local.get $q) (local.get $f)))
                (local.set $inside
                  (v128.and (f64x2.gt (local.get $frac) (local.get $near)) (f64x2.lt (local.get $frac) (local.get $far))))
                (local.set $r (f64x2.nearest (local.get $q)))
                (local.set $ok
                  (v128.and (local.get $ok)
                    (v128.and (f64x2.lt (f64x2.abs (local.get $q)) (local.get $limit))
                      (v128.or (local.get $inside) (f64x2.eq (f64x2.mul (local.get $r) (local.get $dwV)) (local.get $bHi))))))
                (local.set $dbHi (v128.bitselect (local.get $f) (local.get $r) (local.get $inside)))
                (local.set $q (f64x2.mul (local.get $eLo) (local.get $invV)))
                (local.set $f (f64x2.floor (local.get $q)))
                (local.set $frac (f64x2.sub (local.get $q) (local.get $f)))
                (local.set $inside
                  (v128.and (f64x2.gt (local.get $frac) (local.get $near)) (f64x2.lt (local.get $frac) (local.get $far))))
                (local.set $r (f64x2.nearest (local.get $q)))
                (local.set $ok
                  (v128.and (local.get $ok)
                    (v128.and (f64x2.lt (f64x2.abs (local.get $q)) (local.get $limit))
                      (v128.or (local.get $inside) (f64x2.eq (f64x2.mul (local.get $r) (local.get $dwV)) (local.get $eLo))))))
                (local.set $deLo (v128.bitselect (local.get $f) (local.get $r) (local.get $inside)))
                (local.set $q (f64x2.mul (local.get $eHi) (local.get $invV)))
                (local.set $f (f64x2.floor (local.get $q)))
                (local.set $frac (f64x2.sub (local.get $q) (local.get $f)))
                (local.set $inside
                  (v128.and (f64x2.gt (local.get $frac) (local.get $near)) (f64x2.lt (local.get $frac) (local.get $far))))
                (local.set $r (f64x2.nearest (local.get $q)))
                (local.set $ok
                  (v128.and (local.get $ok)
                    (v128.and (f64x2.lt (f64x2.abs (local.get $q)) (local.get $limit))
                      (v128.or (local.get $inside) (f64x2.eq (f64x2.mul (local.get $r) (local.get $dwV)) (local.get $eHi))))))
                (local.set $deHi (v128.bitselect (local.get $f) (local.get $r) (local.get $inside)))
                (if (i32.eqz (i64x2.all_true (local.get $ok)))
                  (then
                    (local.set $dbLo (call $floorSlow (local.get $bLo) (local.get $dw) (local.get $inv)))
                    (local.set $dbHi (call $floorSlow (local.get $bHi) (local.get $dw) (local.get $inv)))
                    (local.set $deLo (call $floorSlow (local.get $eLo) (local.get $dw) (local.get $inv)))
                    (local.set $deHi (call $floorSlow (local.get $eHi) (local.get $dw) (local.get $inv)))))
                ;; clamped to [0, last] (NaN stays NaN, as in the loop), then as float32 (exact: integers)
                (local.set $dB
                  (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23
                    (f32x4.demote_f64x2_zero
                      (f64x2.pmin (f64x2.pmax (local.get $dbLo) (v128.const f64x2 0 0)) (local.get $lastV)))
                    (f32x4.demote_f64x2_zero
                      (f64x2.pmin (f64x2.pmax (local.get $dbHi) (v128.const f64x2 0 0)) (local.get $lastV)))))
                (local.set $dE
                  (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23
                    (f32x4.demote_f64x2_zero
                      (f64x2.pmin (f64x2.pmax (local.get $deLo) (v128.const f64x2 0 0)) (local.get $lastV)))
                    (f32x4.demote_f64x2_zero
                      (f64x2.pmin (f64x2.pmax (local.get $deHi) (v128.const f64x2 0 0)) (local.get $lastV)))))))
            (local.set $density (f32x4.div (local.get $c) (local.get $bwV)))
            ;; b = begin - f32(f32(dBegin + 0.5) · dw)
            (local.set $x
              (f32x4.sub (local.get $begin)
                (f32x4.mul
                  (f32x4.add (local.get $dB) (v128.const f32x4 0.5 0.5 0.5 0.5))
                  (local.get $dw4))))
            ;; norm = density · ((halfCube - b·b·b) / 3)
            (local.set $norm
              (f32x4.mul (local.get $density)
                (f32x4.div
                  (f32x4.sub (local.get $halfCubeV)
                    (f32x4.mul (f32x4.mul (local.get $x) (local.get $x)) (local.get $x)))
                  (local.get $three))))
            ;; norm += ((dEnd - dBegin) - 1) · (density · middle)
            (local.set $norm
              (f32x4.add (local.get $norm)
                (f32x4.mul
                  (f32x4.sub (f32x4.sub (local.get $dE) (local.get $dB)) (v128.const f32x4 1 1 1 1))
                  (f32x4.mul (local.get $density) (local.get $middleV)))))
            ;; e = end - (dEnd · dw + halfDw); norm += density · ((e·e·e - negHalfCube) / 3)
            (local.set $x
              (f32x4.sub (local.get $stop)
                (f32x4.add
                  (f32x4.mul (local.get $dE) (local.get $dw4))
                  (local.get $halfDwV))))
            (local.set $norm
              (v128.and (local.get $live)
                (f32x4.add (local.get $norm)
                  (f32x4.mul (local.get $density)
                    (f32x4.div
                      (f32x4.sub
                        (f32x4.mul (f32x4.mul (local.get $x) (local.get $x)) (local.get $x))
                        (local.get $negHalfCubeV))
                      (local.get $three))))))
            ;; added in bin order, as the loop adds them
            (local.set $total
              (f64.add (local.get $total) (f64.promote_f32 (f32x4.extract_lane 0 (local.get $norm)))))
            (local.set $total
              (f64.add (local.get $total) (f64.promote_f32 (f32x4.extract_lane 1 (local.get $norm)))))
            (local.set $total
              (f64.add (local.get $total) (f64.promote_f32 (f32x4.extract_lane 2 (local.get $norm)))))
            (local.set $total
              (f64.add (local.get $total) (f64.promote_f32 (f32x4.extract_lane 3 (local.get $norm)))))))
        (local.set $p (i32.add (local.get $p) (i32.const 16)))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (br $group)))
    (local.get $total)))
