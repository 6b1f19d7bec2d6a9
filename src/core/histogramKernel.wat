;; The histogram fold's hot loop in WebAssembly SIMD, hand-written: min/max and binning of a float32
;; batch in one pass, eight values at a time. scripts/build-wasm.mjs assembles it (wabt) into
;; src/core/histogramKernel.wasm.ts at build time; src/core/histogramKernel.ts loads it and falls
;; back to the JavaScript loop (histogramBinning.ts, binLoopFixed) where WASM SIMD is missing.
;;
;; It finds the bins binLoopFixed finds, value for value, the same way but for the position's precision:
;;   v   = round((x - lo) * fixedScale)          in float32 (JS: float64, truncated); the caller's `window`
;;                                                is widened by float32's rounding (histogramBinning.ts,
;;                                                edgesFor), and its last unit covers rounding or truncation
;;   if x == ±0:                      v = the middle of zeroBin (the caller walked 0 to its bin once)
;;   bin = min(v >> shift, last)
;;   if ((v + window) & mask) < 2 window:  walk to the float32 edges that hold x (numpy's rule,
;;                                         e_i <= x < e_i+1, the last bin closed): noted in the loop,
;;                                         set right after it
;;   lanes[(bin << 2) | (k & 3)] += 1             four interleaved copies of the counts, so that equal
;;                                                consecutive values do not wait on each other's store
;;   a run of eight or more equal values, none near an edge: counted at once (below, $to_run)
;; min/max: f32x4.min/max, NaN-propagating like Math.min/max (the caller learns of NaN that way and
;; discards the batch; a value outside [lo, hi] also discards it, so such values' bins never matter).
;;
;; Memory layout, chosen by the caller: bytes 0..8 hold min and max so far (float32), updated here; `edges` points at
;; last + 2 float64 edges; `lanes` at 4 (last + 1) uint32 counts, zeroed by the caller; `data` at the
;; batch, or a chunk of it (16-byte aligned; every chunk but the last a multiple of 8 long, so k & 3
;; stays the value's lane); `fix` at room for 160 bytes of the loop's constants and 8 bytes a value of the
;; chunk (the quads near an edge).
;; With `absMask` 0x7fffffff every value's sign bit is cleared first: the same fold of |x| (min/max too).
(module
  ;; the memory it shares with elementwiseKernel.wat (kernelMemory.ts): this kernel's scratch is its
  ;; first KERNEL_SCRATCH_BYTES, the tensors it bins in place lie above
  (import "env" "memory" (memory 1))
  (export "memory" (memory 0))

  ;; Walk from bin $i to the bin whose float64 edges hold $x (edges are non-decreasing, so the end
  ;; bin is the same from any start).
  (func $walk (param $x f64) (param $i i32) (param $edges i32) (param $last i32) (result i32)
    (block $down_done
      (loop $down
        (br_if $down_done (i32.le_s (local.get $i) (i32.const 0)))
        (br_if $down_done
          (i32.eqz (f64.lt (local.get $x)
                           (f64.load (i32.add (local.get $edges) (i32.shl (local.get $i) (i32.const 3)))))))
        (local.set $i (i32.sub (local.get $i) (i32.const 1)))
        (br $down)))
    (block $up_done
      (loop $up
        (br_if $up_done (i32.ge_s (local.get $i) (local.get $last)))
        (br_if $up_done
          (i32.eqz (f64.ge (local.get $x)
                           (f64.load offset=8 (i32.add (local.get $edges) (i32.shl (local.get $i) (i32.const 3)))))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $up)))
    (local.get $i))

  ;; One value's bin, scalar (the batch's last length mod 8 values).
  (func $binOf (param $x f32) (param $lo f32) (param $fs f32) (param $shift i32) (param $mask i32)
               (param $window i32) (param $zeroBin i32) (param $edges i32) (param $last i32) (result i32)
    (local $v i32)
    (local $i i32)
    (if (f32.eq (local.get $x) (f32.const 0)) (then (return (local.get $zeroBin))))
    (local.set $v (i32.trunc_sat_f32_s (f32.mul (f32.sub (local.get $x) (local.get $lo)) (local.get $fs))))
    (local.set $i (i32.shr_s (local.get $v) (local.get $shift)))
    (if (i32.lt_s (local.get $i) (i32.const 0)) (then (local.set $i (i32.const 0))))
    (if (i32.gt_s (local.get $i) (local.get $last)) (then (local.set $i (local.get $last))))
    (if (i32.lt_u (i32.and (i32.add (local.get $v) (local.get $window)) (local.get $mask))
                  (i32.shl (local.get $window) (i32.const 1)))
      (then (local.set $i (call $walk (f64.promote_f32 (local.get $x)) (local.get $i) (local.get $edges) (local.get $last)))))
    (local.get $i))

;; A value counted in its estimated bin $bin of lane $l: moved to the bin whose float32 edges hold it
  ;; when that is another (the walk from $bin; a value not near an edge, ±0 included, stays). Most
  ;; noted values are in their bin already (a quad is noted for any one of its values, and a value on
  ;; an edge is noted every time): checked against that bin's two edges first, without the walk's
  ;; call (e_bin <= x, and x < e_bin+1 unless the bin is the last, which is closed).
  (func $fixLane (param $x f32) (param $bin i32) (param $l i32) (param $lanes i32) (param $edges i32) (param $last i32)
    (local $to i32) (local $a i32) (local $xd f64)
    (local.set $xd (f64.promote_f32 (local.get $x)))
    (local.set $a (i32.add (local.get $edges) (i32.shl (local.get $bin) (i32.const 3))))
    (if (i32.and (f64.ge (local.get $xd) (f64.load (local.get $a)))
                 (i32.or (i32.ge_s (local.get $bin) (local.get $last))
                         (f64.lt (local.get $xd) (f64.load offset=8 (local.get $a)))))
      (then (return)))
    (local.set $to (call $walk (local.get $xd) (local.get $bin) (local.get $edges) (local.get $last)))
    (if (i32.ne (local.get $to) (local.get $bin))
      (then
        (local.set $a (i32.add (local.get $lanes)
          (i32.shl (i32.or (i32.shl (local.get $bin) (i32.const 2)) (local.get $l)) (i32.const 2))))
        (i32.store (local.get $a) (i32.sub (i32.load (local.get $a)) (i32.const 1)))
        (local.set $a (i32.add (local.get $lanes)
          (i32.shl (i32.or (i32.shl (local.get $to) (i32.const 2)) (local.get $l)) (i32.const 2))))
        (i32.store (local.get $a) (i32.add (i32.load (local.get $a)) (i32.const 1))))))

    (func (export "fold")
        (param $data i32) (param $len i32) (param $lanes i32) (param $edges i32) (param $last i32)
        (param $lo f32) (param $fs f32) (param $shift i32) (param $mask i32) (param $window i32)
        (param $zeroBin i32) (param $fix i32) (param $absMask i32)
    (local $k i32) (local $end i32) (local $p i32) (local $a i32) (local $fixEnd i32)
    (local $x0 v128) (local $x1 v128) (local $vmin v128) (local $vmax v128) (local $nan v128)
    (local $v0 v128) (local $v1 v128) (local $bin0 v128) (local $bin1 v128)
    (local $LO v128) (local $FS v128) (local $W v128) (local $MASK v128) (local $SPAN v128)
    (local $LAST v128) (local $ZV v128) (local $OFF v128) (local $AM v128) (local $MAGIC v128) (local $c i32)
    (local $min f32) (local $max f32) (local $xs f32) (local $same v128) (local $run i32) (local $skip i32)
    ;; The loop's constants are stored at $fix (160 bytes; the noted quads follow) and loaded back into
    ;; locals before the loop. Kept as splats, V8's optimizing compiler (TurboFan) computes each one
    ;; again next to its use, inside the loop, every iteration (a splat is pure; ±0's position takes a
    ;; scalar shift and or, lanes + l·4 eight instructions): ~45 of the loop's ~140 instructions. A load
    ;; stays where it is, and the loop reads the value from a register or the stack. Measured: the
    ;; fold over det's 236 tensors ~145 -> ~115 ms.
    (local.set $c (local.get $fix))
    (local.set $fix (i32.add (local.get $fix) (i32.const 160)))
    (v128.store offset=0 (local.get $c) (f32x4.splat (local.get $lo)))
    (v128.store offset=16 (local.get $c) (f32x4.splat (local.get $fs)))
    (v128.store offset=32 (local.get $c) (i32x4.splat (local.get $window)))
    (v128.store offset=48 (local.get $c) (i32x4.splat (local.get $mask)))
    (v128.store offset=64 (local.get $c) (i32x4.splat (i32.shl (local.get $window) (i32.const 1))))
    (v128.store offset=80 (local.get $c) (i32x4.splat (local.get $last)))
    ;; -1, or 0x7fffffff to bin |x| (the sign bit cleared: onnxruntime's |x| histogram)
    (v128.store offset=96 (local.get $c) (i32x4.splat (local.get $absMask)))
    ;; ±0's position: the middle of its bin (zeroBin, walked once by the caller), so that the rest of
    ;; the loop bins it there and never finds it near an edge (the caller keeps window <= 2^(shift - 4),
    ;; well under half a bin's 2^shift: histogramBinning.ts, edgesFor)
    (v128.store offset=112 (local.get $c) (i32x4.splat (i32.or (i32.shl (local.get $zeroBin) (local.get $shift))
                                                               (i32.shr_u (local.get $mask) (i32.const 1)))))
    ;; byte addresses of lane l's copy of bin 0: lanes + l * 4
    (v128.store offset=128 (local.get $c) (i32x4.add (i32x4.splat (local.get $lanes)) (v128.const i32x4 0 4 8 12)))
    ;; 2^23 as float32, whose bits are 0x4b000000 as an integer (the rounding below)
    (v128.store offset=144 (local.get $c) (v128.const f32x4 8388608 8388608 8388608 8388608))
    (local.set $LO (v128.load offset=0 (local.get $c)))
    (local.set $FS (v128.load offset=16 (local.get $c)))
    (local.set $W (v128.load offset=32 (local.get $c)))
    (local.set $MASK (v128.load offset=48 (local.get $c)))
    (local.set $SPAN (v128.load offset=64 (local.get $c)))
    (local.set $LAST (v128.load offset=80 (local.get $c)))
    (local.set $AM (v128.load offset=96 (local.get $c)))
    (local.set $ZV (v128.load offset=112 (local.get $c)))
    (local.set $OFF (v128.load offset=128 (local.get $c)))
    (local.set $MAGIC (v128.load offset=144 (local.get $c)))
    ;; the extremes so far (the caller folds a batch in chunks): bytes 0..8. f32x4.pmin/pmax are one
    ;; instruction each (minps/maxps) where min/max's NaN and ±0 rules cost seven: NaN is kept apart
    ;; in $nan (x != x) and returned as a NaN minimum and maximum; a NaN carried in from an earlier
    ;; chunk stays (pmin(NaN, x) = x < NaN ? x : NaN); a zero extreme's sign is the caller's
    ;; (minmax.ts, signedZero)
    (local.set $vmin (f32x4.splat (f32.load (i32.const 0))))
    (local.set $vmax (f32x4.splat (f32.load (i32.const 4))))
    (local.set $nan (v128.const i32x4 0 0 0 0))
    (local.set $end (i32.add (local.get $data) (i32.shl (i32.and (local.get $len) (i32.const -8)) (i32.const 2))))
    (local.set $p (local.get $data))
    (local.set $fixEnd (local.get $fix))
    ;; Runs: eight values with the same bits (a flat background, ReLU's zeros, a clipped or saturated
    ;; activation: 40% of det's groups of eight on a sample document, in runs of 66 values on average),
    ;; not near an edge, are one bin's. The loop leaves for $to_run when a group's first two values
    ;; equal its last two (one scalar test: SIMD tests of the whole group inside the loop cost data
    ;; without runs 11%, V8 keeping fewer of the loop's vectors in registers; this one ~3%); there the
    ;; group is checked whole, the run extended eight values at a time while the bits stay the same (two
    ;; loads and compares a group, no bin arithmetic) and counted in one addition to lane 0 (the caller
    ;; sums the four lanes; a value noted near an edge is never in a run, so no lane is taken below
    ;; what it was given). A group that is not a run after all (its values differ, or lie near an edge)
    ;; is noted in $skip and binned by the loop. NaN with the same bits may take this path: its batch is
    ;; discarded (min/max carry it), and the bin is clamped. Measured on det's 236 tensors: the fold
    ;; ~170 -> ~130 ms a sample.
    (local.set $skip (i32.const -1))
    ;; eight values an iteration, two quads (one test for both whether any is near an edge)
    (block $done
     (loop $outer
      (block $to_run
      (loop $eight
        (br_if $done (i32.ge_u (local.get $p) (local.get $end)))
        (br_if $to_run (i32.and (i64.eq (i64.load (local.get $p)) (i64.load offset=24 (local.get $p)))
                                (i32.ne (local.get $p) (local.get $skip))))
        ;; positions in 2^-shift of a bin, in float32 (the caller's window covers float32's rounding),
        ;; rounded to an integer by adding 2^23 (float32's ulp is 1 in [2^23, 2^24): the sum's bits
        ;; less 2^23's are the nearest integer; the caller keeps positions under 2^22). Half a unit
        ;; off at most, where truncation is up to one: the window's last unit covers either. Three
        ;; instructions where trunc_sat's NaN and overflow rules take seven. A value outside [lo, hi]
        ;; or NaN gets some integer: a negative one is clamped by the unsigned minimum to the last bin
        ;; (its batch is discarded: only memory safety matters); ±0 takes $ZV
        (local.set $x0 (v128.and (v128.load offset=0 (local.get $p)) (local.get $AM)))
        (local.set $vmin (f32x4.pmin (local.get $vmin) (local.get $x0)))
        (local.set $vmax (f32x4.pmax (local.get $vmax) (local.get $x0)))
        (local.set $nan (v128.or (local.get $nan) (f32x4.ne (local.get $x0) (local.get $x0))))
        (local.set $v0 (i32x4.sub
          (f32x4.add (f32x4.mul (f32x4.sub (local.get $x0) (local.get $LO)) (local.get $FS))
                     (local.get $MAGIC))
          (local.get $MAGIC)))
        (local.set $v0 (v128.bitselect (local.get $ZV) (local.get $v0)
          (f32x4.eq (local.get $x0) (v128.const i32x4 0 0 0 0))))
        (local.set $bin0 (i32x4.min_u (local.get $LAST) (i32x4.shr_s (local.get $v0) (local.get $shift))))
        (local.set $x1 (v128.and (v128.load offset=16 (local.get $p)) (local.get $AM)))
        (local.set $vmin (f32x4.pmin (local.get $vmin) (local.get $x1)))
        (local.set $vmax (f32x4.pmax (local.get $vmax) (local.get $x1)))
        (local.set $nan (v128.or (local.get $nan) (f32x4.ne (local.get $x1) (local.get $x1))))
        (local.set $v1 (i32x4.sub
          (f32x4.add (f32x4.mul (f32x4.sub (local.get $x1) (local.get $LO)) (local.get $FS))
                     (local.get $MAGIC))
          (local.get $MAGIC)))
        (local.set $v1 (v128.bitselect (local.get $ZV) (local.get $v1)
          (f32x4.eq (local.get $x1) (v128.const i32x4 0 0 0 0))))
        (local.set $bin1 (i32x4.min_u (local.get $LAST) (i32x4.shr_s (local.get $v1) (local.get $shift))))
        ;; rare (values within the rounding window of an edge): the quads and their estimated bins
        ;; are noted at $fixEnd and set right after the loop ($fixLane). No call inside the loop: a
        ;; call clobbers every SIMD register, and V8 then keeps the loop's vectors on the stack
        ;; (measured 2x slower)
        (if (v128.any_true (v128.or
              (i32x4.lt_s (v128.and (i32x4.add (local.get $v0) (local.get $W)) (local.get $MASK)) (local.get $SPAN))
              (i32x4.lt_s (v128.and (i32x4.add (local.get $v1) (local.get $W)) (local.get $MASK)) (local.get $SPAN))))
          (then
            (v128.store (local.get $fixEnd) (local.get $x0))
            (v128.store offset=16 (local.get $fixEnd) (local.get $bin0))
            (v128.store offset=32 (local.get $fixEnd) (local.get $x1))
            (v128.store offset=48 (local.get $fixEnd) (local.get $bin1))
            (local.set $fixEnd (i32.add (local.get $fixEnd) (i32.const 64)))))
        ;; byte address of lanes[(bin << 2) | l]: lanes + bin * 16 + l * 4
        (local.set $bin0 (i32x4.add (i32x4.shl (local.get $bin0) (i32.const 4)) (local.get $OFF)))
        (local.set $a (i32x4.extract_lane 0 (local.get $bin0)))
        (i32.store (local.get $a) (i32.add (i32.load (local.get $a)) (i32.const 1)))
        (local.set $a (i32x4.extract_lane 1 (local.get $bin0)))
        (i32.store (local.get $a) (i32.add (i32.load (local.get $a)) (i32.const 1)))
        (local.set $a (i32x4.extract_lane 2 (local.get $bin0)))
        (i32.store (local.get $a) (i32.add (i32.load (local.get $a)) (i32.const 1)))
        (local.set $a (i32x4.extract_lane 3 (local.get $bin0)))
        (i32.store (local.get $a) (i32.add (i32.load (local.get $a)) (i32.const 1)))
        (local.set $bin1 (i32x4.add (i32x4.shl (local.get $bin1) (i32.const 4)) (local.get $OFF)))
        (local.set $a (i32x4.extract_lane 0 (local.get $bin1)))
        (i32.store (local.get $a) (i32.add (i32.load (local.get $a)) (i32.const 1)))
        (local.set $a (i32x4.extract_lane 1 (local.get $bin1)))
        (i32.store (local.get $a) (i32.add (i32.load (local.get $a)) (i32.const 1)))
        (local.set $a (i32x4.extract_lane 2 (local.get $bin1)))
        (i32.store (local.get $a) (i32.add (i32.load (local.get $a)) (i32.const 1)))
        (local.set $a (i32x4.extract_lane 3 (local.get $bin1)))
        (i32.store (local.get $a) (i32.add (i32.load (local.get $a)) (i32.const 1)))
        (local.set $p (i32.add (local.get $p) (i32.const 32)))
        (br $eight)))
      ;; the group at $p begins and ends with the same two values
      (local.set $x0 (v128.and (v128.load offset=0 (local.get $p)) (local.get $AM)))
      (local.set $same (i8x16.shuffle 0 1 2 3 0 1 2 3 0 1 2 3 0 1 2 3 (local.get $x0) (local.get $x0)))
      (if (i32x4.all_true (v128.and (i32x4.eq (local.get $x0) (local.get $same))
                                    (i32x4.eq (v128.and (v128.load offset=16 (local.get $p)) (local.get $AM))
                                              (local.get $same))))
        (then
          (local.set $v0 (i32x4.sub
            (f32x4.add (f32x4.mul (f32x4.sub (local.get $x0) (local.get $LO)) (local.get $FS))
                       (local.get $MAGIC))
            (local.get $MAGIC)))
          (local.set $v0 (v128.bitselect (local.get $ZV) (local.get $v0)
            (f32x4.eq (local.get $x0) (v128.const i32x4 0 0 0 0))))
          (if (i32.eqz (v128.any_true
                (i32x4.lt_s (v128.and (i32x4.add (local.get $v0) (local.get $W)) (local.get $MASK)) (local.get $SPAN))))
            (then
              (local.set $vmin (f32x4.pmin (local.get $vmin) (local.get $x0)))
              (local.set $vmax (f32x4.pmax (local.get $vmax) (local.get $x0)))
              (local.set $nan (v128.or (local.get $nan) (f32x4.ne (local.get $x0) (local.get $x0))))
              (local.set $a (i32x4.extract_lane 0
                (i32x4.add (i32x4.shl (i32x4.min_u (local.get $LAST) (i32x4.shr_s (local.get $v0) (local.get $shift)))
                                      (i32.const 4))
                           (local.get $OFF))))
              (local.set $run (i32.const 8))
              (local.set $p (i32.add (local.get $p) (i32.const 32)))
              (block $run_end
                (loop $more
                  (br_if $run_end (i32.ge_u (local.get $p) (local.get $end)))
                  (br_if $run_end (i32.eqz (i32x4.all_true (v128.and
                    (i32x4.eq (v128.and (v128.load offset=0 (local.get $p)) (local.get $AM)) (local.get $same))
                    (i32x4.eq (v128.and (v128.load offset=16 (local.get $p)) (local.get $AM)) (local.get $same))))))
                  (local.set $run (i32.add (local.get $run) (i32.const 8)))
                  (local.set $p (i32.add (local.get $p) (i32.const 32)))
                  (br $more)))
              (i32.store (local.get $a) (i32.add (i32.load (local.get $a)) (local.get $run)))
              (br $outer)))))
      (local.set $skip (local.get $p))
      (br $outer)))
    (local.set $k (i32.and (local.get $len) (i32.const -8)))
    ;; the noted values' bins set right: from $fix to $fixEnd, 32 bytes a quad (x, then its bins)
    (block $fixed
      (loop $next
        (br_if $fixed (i32.ge_u (local.get $fix) (local.get $fixEnd)))
        (call $fixLane (f32.load (local.get $fix)) (i32.load offset=16 (local.get $fix)) (i32.const 0)
                       (local.get $lanes) (local.get $edges) (local.get $last))
        (call $fixLane (f32.load offset=4 (local.get $fix)) (i32.load offset=20 (local.get $fix)) (i32.const 1)
                       (local.get $lanes) (local.get $edges) (local.get $last))
        (call $fixLane (f32.load offset=8 (local.get $fix)) (i32.load offset=24 (local.get $fix)) (i32.const 2)
                       (local.get $lanes) (local.get $edges) (local.get $last))
        (call $fixLane (f32.load offset=12 (local.get $fix)) (i32.load offset=28 (local.get $fix)) (i32.const 3)
                       (local.get $lanes) (local.get $edges) (local.get $last))
        (local.set $fix (i32.add (local.get $fix) (i32.const 32)))
        (br $next)))
    ;; the four lanes' extremes (NaN where any lane saw NaN), then the last len mod 8 values one at a
    ;; time (k & 3 is their lane; f32.min/max propagate NaN)
    (local.set $min (f32.min (f32.min (f32x4.extract_lane 0 (local.get $vmin)) (f32x4.extract_lane 1 (local.get $vmin)))
                             (f32.min (f32x4.extract_lane 2 (local.get $vmin)) (f32x4.extract_lane 3 (local.get $vmin)))))
    (local.set $max (f32.max (f32.max (f32x4.extract_lane 0 (local.get $vmax)) (f32x4.extract_lane 1 (local.get $vmax)))
                             (f32.max (f32x4.extract_lane 2 (local.get $vmax)) (f32x4.extract_lane 3 (local.get $vmax)))))
    (if (v128.any_true (local.get $nan))
      (then (local.set $min (f32.const nan)) (local.set $max (f32.const nan))))
    (block $tail_done
      (loop $tail
        (br_if $tail_done (i32.ge_u (local.get $k) (local.get $len)))
        (local.set $xs (f32.reinterpret_i32 (i32.and (i32.load (local.get $p)) (local.get $absMask))))
        (local.set $min (f32.min (local.get $min) (local.get $xs)))
        (local.set $max (f32.max (local.get $max) (local.get $xs)))
        (local.set $a (i32.add (local.get $lanes)
          (i32.shl
            (i32.or
              (i32.shl
                (call $binOf (local.get $xs) (local.get $lo) (local.get $fs) (local.get $shift) (local.get $mask)
                             (local.get $window) (local.get $zeroBin) (local.get $edges) (local.get $last))
                (i32.const 2))
              (i32.and (local.get $k) (i32.const 3)))
            (i32.const 2))))
        (i32.store (local.get $a) (i32.add (i32.load (local.get $a)) (i32.const 1)))
        (local.set $p (i32.add (local.get $p) (i32.const 4)))
        (local.set $k (i32.add (local.get $k) (i32.const 1)))
        (br $tail)))
    (f32.store (i32.const 0) (local.get $min))
    (f32.store (i32.const 4) (local.get $max)))

  ;; min/max alone (the first sample of a tensor, the exact mode's first pass), and min |x| beside
  ;; them: the same convention, bytes 0..12 hold min, max and min |x| so far and are updated; eight
  ;; values an iteration in two accumulators, so that one min's latency does not wait on the last.
  ;; pmin/pmax as in "fold" (one instruction each), NaN kept apart and returned as a NaN minimum and
  ;; maximum (the caller then counts NaN one value at a time); min |x| skips NaN (pmin keeps the
  ;; accumulator when |x| is NaN), as the scalar `a < minAbs` scan does; |-0| is +0.
  (func (export "minmax") (param $data i32) (param $len i32)
    (local $p i32) (local $end i32) (local $x f32) (local $a v128) (local $b v128) (local $nan v128)
    (local $min0 v128) (local $max0 v128) (local $min1 v128) (local $max1 v128) (local $abs0 v128) (local $abs1 v128)
    (local $min f32) (local $max f32) (local $abs f32)
    (local.set $min0 (f32x4.splat (f32.load (i32.const 0))))
    (local.set $max0 (f32x4.splat (f32.load (i32.const 4))))
    (local.set $abs0 (f32x4.splat (f32.load (i32.const 8))))
    (local.set $min1 (local.get $min0))
    (local.set $max1 (local.get $max0))
    (local.set $abs1 (local.get $abs0))
    (local.set $nan (v128.const i32x4 0 0 0 0))
    (local.set $p (local.get $data))
    (local.set $end (i32.add (local.get $data) (i32.shl (i32.and (local.get $len) (i32.const -8)) (i32.const 2))))
    (block $done
      (loop $eight
        (br_if $done (i32.ge_u (local.get $p) (local.get $end)))
        (local.set $a (v128.load (local.get $p)))
        (local.set $b (v128.load offset=16 (local.get $p)))
        (local.set $min0 (f32x4.pmin (local.get $min0) (local.get $a)))
        (local.set $max0 (f32x4.pmax (local.get $max0) (local.get $a)))
        (local.set $abs0 (f32x4.pmin (local.get $abs0) (f32x4.abs (local.get $a))))
        (local.set $min1 (f32x4.pmin (local.get $min1) (local.get $b)))
        (local.set $max1 (f32x4.pmax (local.get $max1) (local.get $b)))
        (local.set $abs1 (f32x4.pmin (local.get $abs1) (f32x4.abs (local.get $b))))
        (local.set $nan (v128.or (local.get $nan)
          (v128.or (f32x4.ne (local.get $a) (local.get $a)) (f32x4.ne (local.get $b) (local.get $b)))))
        (local.set $p (i32.add (local.get $p) (i32.const 32)))
        (br $eight)))
    (local.set $min0 (f32x4.min (local.get $min0) (local.get $min1)))
    (local.set $max0 (f32x4.max (local.get $max0) (local.get $max1)))
    (local.set $abs0 (f32x4.pmin (local.get $abs0) (local.get $abs1)))
    (local.set $min (f32.min (f32.min (f32x4.extract_lane 0 (local.get $min0)) (f32x4.extract_lane 1 (local.get $min0)))
                             (f32.min (f32x4.extract_lane 2 (local.get $min0)) (f32x4.extract_lane 3 (local.get $min0)))))
    (local.set $max (f32.max (f32.max (f32x4.extract_lane 0 (local.get $max0)) (f32x4.extract_lane 1 (local.get $max0)))
                             (f32.max (f32x4.extract_lane 2 (local.get $max0)) (f32x4.extract_lane 3 (local.get $max0)))))
    (local.set $abs0 (f32x4.pmin (local.get $abs0) (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7
                                                     (local.get $abs0) (local.get $abs0))))
    (local.set $abs0 (f32x4.pmin (local.get $abs0) (i8x16.shuffle 4 5 6 7 0 1 2 3 4 5 6 7 0 1 2 3
                                                     (local.get $abs0) (local.get $abs0))))
    (local.set $abs (f32x4.extract_lane 0 (local.get $abs0)))
    (if (v128.any_true (local.get $nan))
      (then (local.set $min (f32.const nan)) (local.set $max (f32.const nan))))
    (local.set $end (i32.add (local.get $data) (i32.shl (local.get $len) (i32.const 2))))
    (block $tail_done
      (loop $tail
        (br_if $tail_done (i32.ge_u (local.get $p) (local.get $end)))
        (local.set $x (f32.load (local.get $p)))
        (local.set $min (f32.min (local.get $min) (local.get $x)))
        (local.set $max (f32.max (local.get $max) (local.get $x)))
        (if (f32.lt (f32.abs (local.get $x)) (local.get $abs)) (then (local.set $abs (f32.abs (local.get $x)))))
        (local.set $p (i32.add (local.get $p) (i32.const 4)))
        (br $tail)))
    (f32.store (i32.const 0) (local.get $min))
    (f32.store (i32.const 4) (local.get $max))
    (f32.store (i32.const 8) (local.get $abs)))
)
