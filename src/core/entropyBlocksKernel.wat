;; The entropy first pass (src/core/methods/entropyFast.ts) in WebAssembly SIMD, hand-written: a
;; histogram's prefix sums (`tables`, tablesOf), then for each run width the block sums
;; (`short`/`full`, buildBlockSums: for every block [a, a + m) of the positions the width's candidates
;; cover, the block's level v = trunc(mass / non-zeros) and its terms, summed in strided prefix rows,
;; row j + m = row j + block j) and its candidates' scores (`score`, blockedScore). scripts/build-wasm.mjs
;; assembles it (wabt) into src/core/entropyBlocksKernel.wasm.ts at build time;
;; src/core/methods/entropyBlocksKernel.ts loads it and falls back to the JavaScript where WASM SIMD is
;; missing.
;;
;; Bit for bit the JavaScript loop's rows: every field is the same float64 operations in the same order
;; (f64x2 lanes only pair two fields' independent `row + weight * g` updates; WASM's f64 add, mul, div
;; and trunc are IEEE 754 round-to-nearest like JavaScript's). A level's terms come from the table the
;; caller writes at `levels`, 64 bytes a level v = 0..4095: log v (Math.log, logTable.ts's values), 1/v,
;; (1/v)²/2, ((1/v)²·(1/v))/3, 1/(v·v) and 1/((v·v)·v) (the last two for `tables`), each computed in
;; JS as the loops compute them, so a load is the same bits as the arithmetic (two divisions and the
;; shuffles a block saved); for v >= 4096 they are computed here, log v with the imported Math.log
;; itself: the same bits as logCount.
;;
;; Memory (byte offsets from the caller): `h` and `z` point at H[lowPos] and Z[lowPos] (float64 prefix
;; sums of counts and non-zero bins), `rows` at row 0, whose first m rows the caller zeroes; `levels`
;; at the 4096-level table.
(module
  (import "m" "log" (func $log (param f64) (result f64)))
  (memory (export "memory") 1)

  ;; The short layout, 7 fields a row (56 bytes): u·log v, u/v, u·(1/v)²/2, nz·log v, nz/v, empty
  ;; blocks, Σ v; u = mass + eps·m. Blocks j = 0 .. W - m.
  (func (export "short")
    (param $h i32) (param $z i32) (param $rows i32) (param $levels i32)
    (param $m i32) (param $W i32) (param $epsM f64)
    (local $j i32) (local $from i32) (local $to i32) (local $mb i32) (local $at i32)
    (local $nz f64) (local $mass f64) (local $v f64) (local $g1 f64) (local $g2 f64) (local $g01 v128)
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
            ;; g01 = (log v, 1/v), g2 = (1/v)²/2: the table's, or computed past it
            (if (f64.lt (local.get $v) (f64.const 4096))
              (then
                (local.set $at
                  (i32.add (local.get $levels) (i32.shl (i32.trunc_f64_u (local.get $v)) (i32.const 6))))
                (local.set $g01 (v128.load (local.get $at)))
                (local.set $g2 (f64.load offset=16 (local.get $at))))
              (else
                (local.set $g1 (f64.div (f64.const 1) (local.get $v)))
                (local.set $g01 (f64x2.replace_lane 1 (f64x2.splat (call $log (local.get $v))) (local.get $g1)))
                (local.set $g2 (f64.div (f64.mul (local.get $g1) (local.get $g1)) (f64.const 2)))))
            ;; fields 0, 1: + u·(log v, 1/v), u = mass + eps·m
            (v128.store (local.get $to)
              (f64x2.add (v128.load (local.get $from))
                (f64x2.mul (f64x2.splat (f64.add (local.get $mass) (local.get $epsM))) (local.get $g01))))
            ;; field 2: + u·g2
            (f64.store offset=16 (local.get $to)
              (f64.add (f64.load offset=16 (local.get $from))
                (f64.mul (f64.add (local.get $mass) (local.get $epsM)) (local.get $g2))))
            ;; fields 3, 4: + nz·(log v, 1/v)
            (v128.store offset=24 (local.get $to)
              (f64x2.add (v128.load offset=24 (local.get $from))
                (f64x2.mul (f64x2.splat (local.get $nz)) (local.get $g01))))
            ;; field 5 carried over, field 6: + v
            (f64.store offset=40 (local.get $to) (f64.load offset=40 (local.get $from)))
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
    (param $h i32) (param $z i32) (param $rows i32) (param $levels i32)
    (param $m i32) (param $W i32) (param $epsM f64)
    (local $j i32) (local $from i32) (local $to i32) (local $mb i32) (local $at i32)
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
            ;; g01 = (log v, 1/v), g23 = ((1/v)²/2, (1/v)³/3): the table's, or computed past it
            (if (f64.lt (local.get $v) (f64.const 4096))
              (then
                (local.set $at
                  (i32.add (local.get $levels) (i32.shl (i32.trunc_f64_u (local.get $v)) (i32.const 6))))
                (local.set $g01 (v128.load (local.get $at)))
                (local.set $g23 (v128.load offset=16 (local.get $at))))
              (else
                (local.set $g1 (f64.div (f64.const 1) (local.get $v)))
                (local.set $i2 (f64.mul (local.get $g1) (local.get $g1)))
                (local.set $g01 (f64x2.replace_lane 1 (f64x2.splat (call $log (local.get $v))) (local.get $g1)))
                (local.set $g23
                  (f64x2.replace_lane 1
                    (f64x2.splat (f64.div (local.get $i2) (f64.const 2)))
                    (f64.div (f64.mul (local.get $i2) (local.get $g1)) (f64.const 3))))))
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
        (br $blocks))))

  ;; The scores of candidates i = $i .. $last, which share the run width $m, into out[0 .. last - i]:
  ;; for each, sliceOf then blockedScore (src/core/methods/entropyFastTables.ts, entropyFastBlocks.ts)
  ;; over the counts and tablesOf's prefix arrays (H, Z, A, L, R1, R2, R3, n + 1 float64 each, one after
  ;; another from $H; the counts just before H) and the block sums at $rows ($F fields a row, from
  ;; $lowPos). The same float64 operations in the same order as the JS, its logarithms from $ln2
  ;; (below, within 2e-14 of Math.log's: a score within 1e-13 of the JS's). A NaN marks a candidate the
  ;; series does not serve (blockedScore's null, decided before any logarithm), which the caller scores
  ;; in JS; Infinity where p or q is all zeros. The constants are the JS ones' bits: EPS = 1e-4
  ;; (0x1.a36e2eb1c432dp-14), MAX_SERIES_EQ = 0.01 (0x1.47ae147ae147bp-7), MAX_SERIES_ERROR = 2e-11
  ;; (0x1.5fd7fe1796495p-36), 2/3 (0x1.5555555555555p-1); log(EPS) comes from the caller. No helper
  ;; functions: written with them (~50 calls a candidate, which V8 does not inline) this loop measured
  ;; ~4x slower, so every read is inline, with byte offsets: s8 = start·8, e8 = end·8, m8 = m·8.
  (func (export "score")
    (param $H i32) (param $n i32) (param $nq i32) (param $rows i32) (param $lowPos i32) (param $F i32)
    (param $m i32) (param $i i32) (param $last i32) (param $out i32) (param $logTotal f64) (param $logEps f64)
    (param $logt i32)
    (local $lg v128) (local $S i32) (local $cnt i32) (local $Z i32) (local $A i32) (local $L i32) (local $R1 i32)
    (local $R2 i32) (local $R3 i32) (local $zero i32) (local $s8 i32) (local $e8 i32) (local $m8 i32) (local $b8 i32)
    (local $lo i32) (local $hi i32) (local $r8 i32) (local $len i32)
    (local $total f64) (local $mf f64) (local $lenf f64) (local $leftOut f64) (local $rightOut f64)
    (local $first f64) (local $lastH f64) (local $p0 f64) (local $pl f64) (local $zp f64) (local $nzp f64)
    (local $e f64) (local $e2 f64) (local $zeroBlocks f64) (local $zq f64) (local $sq f64)
    (local $nz f64) (local $mass f64) (local $qb f64) (local $v0 f64) (local $w0 f64) (local $vl f64)
    (local $wl f64) (local $nzq f64) (local $eq f64) (local $c f64) (local $pow f64) (local $term f64)
    (local $u2 f64) (local $n1 f64) (local $cross f64) (local $self f64) (local $x f64) (local $score f64)
    (local.set $S (i32.shl (i32.add (local.get $n) (i32.const 1)) (i32.const 3)))
    (local.set $cnt (i32.sub (local.get $H) (i32.shl (local.get $n) (i32.const 3))))
    (local.set $Z (i32.add (local.get $H) (local.get $S)))
    (local.set $A (i32.add (local.get $Z) (local.get $S)))
    (local.set $L (i32.add (local.get $A) (local.get $S)))
    (local.set $R1 (i32.add (local.get $L) (local.get $S)))
    (local.set $R2 (i32.add (local.get $R1) (local.get $S)))
    (local.set $R3 (i32.add (local.get $R2) (local.get $S)))
    (local.set $zero (i32.shr_u (local.get $n) (i32.const 1)))
    (local.set $total (f64.load (i32.add (local.get $H) (i32.shl (local.get $n) (i32.const 3)))))
    (local.set $mf (f64.convert_i32_s (local.get $m)))
    (local.set $m8 (i32.shl (local.get $m) (i32.const 3)))
    (block $done
      (loop $candidates
        (br_if $done (i32.gt_s (local.get $i) (local.get $last)))
        (block $scored
          ;; sliceOf: [start, end), the outliers, p's ends, p's zeros and its smoothing e
          (local.set $s8 (i32.shl (i32.sub (local.get $zero) (local.get $i)) (i32.const 3)))
          (local.set $e8 (i32.shl (i32.add (i32.add (local.get $zero) (local.get $i)) (i32.const 1)) (i32.const 3)))
          (if (i32.gt_s (local.get $e8) (i32.shl (local.get $n) (i32.const 3)))
            (then (local.set $e8 (i32.shl (local.get $n) (i32.const 3)))))
          (local.set $len (i32.shr_s (i32.sub (local.get $e8) (local.get $s8)) (i32.const 3)))
          (local.set $lenf (f64.convert_i32_s (local.get $len)))
          (local.set $leftOut (f64.load (i32.add (local.get $H) (local.get $s8))))
          (local.set $rightOut (f64.sub (local.get $total) (f64.load (i32.add (local.get $H) (local.get $e8)))))
          (local.set $first (f64.load (i32.add (local.get $cnt) (local.get $s8))))
          (local.set $lastH (f64.load (i32.sub (i32.add (local.get $cnt) (local.get $e8)) (i32.const 8))))
          (local.set $p0 (f64.add (local.get $first) (local.get $leftOut)))
          (local.set $pl (f64.add (local.get $lastH) (local.get $rightOut)))
          ;; zp = len - 2 - (Z[end - 1] - Z[start + 1]) + (p0 === 0) + (pl === 0)
          (local.set $zp
            (f64.add
              (f64.add
                (f64.sub (f64.sub (local.get $lenf) (f64.const 2))
                  (f64.sub (f64.load (i32.sub (i32.add (local.get $Z) (local.get $e8)) (i32.const 8)))
                    (f64.load offset=8 (i32.add (local.get $Z) (local.get $s8)))))
                (f64.convert_i32_u (f64.eq (local.get $p0) (f64.const 0))))
              (f64.convert_i32_u (f64.eq (local.get $pl) (f64.const 0)))))
          (local.set $nzp (f64.sub (local.get $lenf) (local.get $zp)))
          (if (i32.or (f64.eq (local.get $nzp) (f64.const 0)) (f64.eq (local.get $total) (f64.const 0)))
            (then (local.set $score (f64.const inf)) (br $scored)))
          (local.set $e (f64.div (f64.mul (f64.const 0x1.a36e2eb1c432dp-14) (local.get $zp)) (local.get $nzp)))
          ;; blockedScore: the rows at the first interior block (lo) and past the last (hi)
          (local.set $lo
            (i32.add (local.get $rows)
              (i32.shl
                (i32.mul
                  (i32.sub (i32.add (i32.shr_s (local.get $s8) (i32.const 3)) (local.get $m)) (local.get $lowPos))
                  (local.get $F))
                (i32.const 3))))
          (local.set $hi
            (i32.add (local.get $lo)
              (i32.shl (i32.mul (i32.mul (i32.sub (local.get $nq) (i32.const 2)) (local.get $m)) (local.get $F))
                (i32.const 3))))
          ;; fields F - 2 (empty blocks) and F - 1 (Σ v): r8 = (F - 2)·8
          (local.set $r8 (i32.shl (i32.sub (local.get $F) (i32.const 2)) (i32.const 3)))
          (local.set $zeroBlocks
            (f64.sub (f64.load (i32.add (local.get $hi) (local.get $r8)))
              (f64.load (i32.add (local.get $lo) (local.get $r8)))))
          (local.set $zq
            (f64.add
              (f64.sub (local.get $lenf) (f64.convert_i32_s (i32.mul (local.get $nq) (local.get $m))))
              (f64.mul (local.get $zeroBlocks) (local.get $mf))))
          (local.set $sq
            (f64.mul
              (f64.sub (f64.load offset=8 (i32.add (local.get $hi) (local.get $r8)))
                (f64.load offset=8 (i32.add (local.get $lo) (local.get $r8))))
              (local.get $mf)))
          ;; runOf(0): the first run [start, start + m), with the left outliers
          (local.set $b8 (i32.add (local.get $s8) (local.get $m8)))
          (local.set $nz
            (f64.add
              (f64.sub (f64.load (i32.add (local.get $Z) (local.get $b8)))
                (f64.load (i32.add (local.get $Z) (local.get $s8))))
              (f64.sub (f64.convert_i32_u (f64.ne (local.get $p0) (f64.const 0)))
                (f64.convert_i32_u (f64.ne (local.get $first) (f64.const 0))))))
          (local.set $qb
            (f64.sub (f64.load (i32.add (local.get $H) (local.get $b8)))
              (f64.load (i32.add (local.get $H) (local.get $s8)))))
          (local.set $mass (f64.add (local.get $qb) (local.get $leftOut)))
          (local.set $v0
            (if (result f64) (f64.ne (local.get $nz) (f64.const 0))
              (then (f64.trunc (f64.div (local.get $qb) (local.get $nz))))
              (else (f64.const 0))))
          ;; its p' mass: mass - e·nz + EPS·(m - nz)
          (local.set $w0
            (f64.add (f64.sub (local.get $mass) (f64.mul (local.get $e) (local.get $nz)))
              (f64.mul (f64.const 0x1.a36e2eb1c432dp-14) (f64.sub (local.get $mf) (local.get $nz)))))
          ;; runOf(nq - 1): the last run [a, b), b8 = b·8, q's remainder past it, the right outliers when b = end
          (local.set $b8
            (i32.add (local.get $s8) (i32.mul (local.get $nq) (local.get $m8))))
          (local.set $nz
            (f64.sub (f64.load (i32.add (local.get $Z) (local.get $b8)))
              (f64.load (i32.sub (i32.add (local.get $Z) (local.get $b8)) (local.get $m8)))))
          (local.set $mass
            (f64.sub (f64.load (i32.add (local.get $H) (local.get $b8)))
              (f64.load (i32.sub (i32.add (local.get $H) (local.get $b8)) (local.get $m8)))))
          (local.set $qb
            (f64.add (local.get $mass)
              (f64.sub (f64.load (i32.add (local.get $H) (local.get $e8)))
                (f64.load (i32.add (local.get $H) (local.get $b8))))))
          (if (i32.eq (local.get $b8) (local.get $e8))
            (then
              (local.set $nz
                (f64.add (local.get $nz)
                  (f64.sub (f64.convert_i32_u (f64.ne (local.get $pl) (f64.const 0)))
                    (f64.convert_i32_u (f64.ne (local.get $lastH) (f64.const 0))))))
              (local.set $mass (f64.add (local.get $mass) (local.get $rightOut)))))
          (local.set $vl
            (if (result f64) (f64.ne (local.get $nz) (f64.const 0))
              (then (f64.trunc (f64.div (local.get $qb) (local.get $nz))))
              (else (f64.const 0))))
          (local.set $wl
            (f64.add (f64.sub (local.get $mass) (f64.mul (local.get $e) (local.get $nz)))
              (f64.mul (f64.const 0x1.a36e2eb1c432dp-14) (f64.sub (local.get $mf) (local.get $nz)))))
          (if (f64.eq (local.get $v0) (f64.const 0)) (then (local.set $zq (f64.add (local.get $zq) (local.get $mf)))))
          (if (f64.eq (local.get $vl) (f64.const 0)) (then (local.set $zq (f64.add (local.get $zq) (local.get $mf)))))
          (local.set $sq (f64.add (local.get $sq) (f64.mul (f64.add (local.get $v0) (local.get $vl)) (local.get $mf))))
          (local.set $nzq (f64.sub (local.get $lenf) (local.get $zq)))
          (if (f64.eq (local.get $nzq) (f64.const 0)) (then (local.set $score (f64.const inf)) (br $scored)))
          (local.set $eq (f64.div (f64.mul (f64.const 0x1.a36e2eb1c432dp-14) (local.get $zq)) (local.get $nzq)))
          ;; eq over MAX_SERIES_EQ: the series is not tried
          (if (f64.gt (local.get $eq) (f64.const 0x1.47ae147ae147bp-7))
            (then (local.set $score (f64.const nan)) (br $scored)))
          (local.set $c (f64.add (local.get $e) (f64.const 0x1.a36e2eb1c432dp-14)))
          (if (i32.eq (local.get $F) (i32.const 10))
            (then
              ;; the full layout: Σ_k ± eq^k (field k - c·field k + 4), k = 0..3, eq^k as the JS multiplies it
              (local.set $cross
                (f64.add (f64.const 0)
                  (f64.sub (f64.sub (f64.load (local.get $hi)) (f64.load (local.get $lo)))
                    (f64.mul (local.get $c)
                      (f64.sub (f64.load offset=32 (local.get $hi)) (f64.load offset=32 (local.get $lo)))))))
              (local.set $pow (f64.mul (f64.const 1) (local.get $eq)))
              (local.set $cross
                (f64.add (local.get $cross)
                  (f64.mul (f64.neg (local.get $pow))
                    (f64.sub (f64.sub (f64.load offset=8 (local.get $hi)) (f64.load offset=8 (local.get $lo)))
                      (f64.mul (local.get $c)
                        (f64.sub (f64.load offset=40 (local.get $hi)) (f64.load offset=40 (local.get $lo))))))))
              (local.set $pow (f64.mul (local.get $pow) (local.get $eq)))
              (local.set $cross
                (f64.add (local.get $cross)
                  (f64.mul (f64.neg (local.get $pow))
                    (f64.sub (f64.sub (f64.load offset=16 (local.get $hi)) (f64.load offset=16 (local.get $lo)))
                      (f64.mul (local.get $c)
                        (f64.sub (f64.load offset=48 (local.get $hi)) (f64.load offset=48 (local.get $lo))))))))
              (local.set $pow (f64.mul (local.get $pow) (local.get $eq)))
              (local.set $term
                (f64.sub (f64.sub (f64.load offset=24 (local.get $hi)) (f64.load offset=24 (local.get $lo)))
                  (f64.mul (local.get $c)
                    (f64.sub (f64.load offset=56 (local.get $hi)) (f64.load offset=56 (local.get $lo))))))
              (local.set $cross (f64.add (local.get $cross) (f64.mul (f64.neg (local.get $pow)) (local.get $term))))
              (local.set $pow (f64.mul (local.get $pow) (local.get $eq)))
              ;; the truncation bound over MAX_SERIES_ERROR of the mass: scored run by run
              (if (f64.gt
                    (f64.div (f64.mul (f64.mul (f64.const 0.75) (local.get $pow)) (f64.abs (local.get $term)))
                      (f64.sub (f64.const 1) (local.get $eq)))
                    (f64.mul (f64.const 0x1.5fd7fe1796495p-36) (local.get $total)))
                (then (local.set $score (f64.const nan)) (br $scored))))
            (else
              ;; the short layout: fields u·log v, u/v, u/(2v²), nz·log v, nz/v
              (local.set $u2 (f64.sub (f64.load offset=16 (local.get $hi)) (f64.load offset=16 (local.get $lo))))
              (local.set $n1 (f64.sub (f64.load offset=32 (local.get $hi)) (f64.load offset=32 (local.get $lo))))
              (if (f64.gt
                    (f64.div
                      (f64.add
                        (f64.mul
                          (f64.mul (f64.mul (f64.mul (f64.const 0x1.5555555555555p-1) (local.get $eq)) (local.get $eq))
                            (local.get $eq))
                          (local.get $u2))
                        (f64.div
                          (f64.mul (f64.mul (f64.mul (local.get $c) (local.get $eq)) (local.get $eq)) (local.get $n1))
                          (f64.const 2)))
                      (f64.sub (f64.const 1) (local.get $eq)))
                    (f64.mul (f64.const 0x1.5fd7fe1796495p-36) (local.get $total)))
                (then (local.set $score (f64.const nan)) (br $scored)))
              (local.set $cross
                (f64.sub (f64.sub (f64.load (local.get $hi)) (f64.load (local.get $lo)))
                  (f64.mul (local.get $c)
                    (f64.sub (f64.load offset=24 (local.get $hi)) (f64.load offset=24 (local.get $lo))))))
              (local.set $cross
                (f64.sub (local.get $cross)
                  (f64.mul (local.get $eq)
                    (f64.sub (f64.sub (f64.load offset=8 (local.get $hi)) (f64.load offset=8 (local.get $lo)))
                      (f64.mul (local.get $c) (local.get $n1))))))
              (local.set $cross
                (f64.sub (local.get $cross) (f64.mul (f64.mul (local.get $eq) (local.get $eq)) (local.get $u2))))))
          ;; the empty interior blocks (p' = EPS, q' = EPS), then the first and last runs' w·log(v - eq)
          (local.set $cross
            (f64.add (local.get $cross)
              (f64.mul
                (f64.mul (f64.mul (f64.const 0x1.a36e2eb1c432dp-14) (local.get $mf)) (local.get $zeroBlocks))
                (local.get $logEps))))
          (local.set $lg
            (call $ln2
              (f64x2.replace_lane 1 (f64x2.splat (f64.sub (local.get $v0) (local.get $eq)))
                (f64.sub (local.get $vl) (local.get $eq)))
              (local.get $logt)))
          (local.set $cross
            (f64.add (local.get $cross)
              (f64.add
                (f64.mul (local.get $w0)
                  (if (result f64) (f64.ne (local.get $v0) (f64.const 0))
                    (then (f64x2.extract_lane 0 (local.get $lg)))
                    (else (local.get $logEps))))
                (f64.mul (local.get $wl)
                  (if (result f64) (f64.ne (local.get $vl) (f64.const 0))
                    (then (f64x2.extract_lane 1 (local.get $lg)))
                    (else (local.get $logEps)))))))
          ;; remainderCross: past the last whole run [b, end), q = 0 (b8 still b·8)
          (local.set $term (f64.const 0))
          (if (i32.lt_s (local.get $b8) (local.get $e8))
            (then
              (local.set $nz
                (f64.sub
                  (f64.add
                    (f64.sub (f64.load (i32.add (local.get $Z) (local.get $e8)))
                      (f64.load (i32.add (local.get $Z) (local.get $b8))))
                    (f64.convert_i32_u (f64.ne (local.get $pl) (f64.const 0))))
                  (f64.convert_i32_u (f64.ne (local.get $lastH) (f64.const 0)))))
              (local.set $term
                (f64.mul
                  (f64.add
                    (f64.sub
                      (f64.add
                        (f64.sub (f64.load (i32.add (local.get $H) (local.get $e8)))
                          (f64.load (i32.add (local.get $H) (local.get $b8))))
                        (local.get $rightOut))
                      (f64.mul (local.get $e) (local.get $nz)))
                    (f64.mul (f64.const 0x1.a36e2eb1c432dp-14)
                      (f64.sub
                        (f64.convert_i32_s (i32.shr_s (i32.sub (local.get $e8) (local.get $b8)) (i32.const 3)))
                        (local.get $nz))))
                  (local.get $logEps)))))
          (local.set $cross (f64.add (local.get $cross) (local.get $term)))
          ;; selfTerm: Σ p' log p', the series over the interior [start + 1, end - 1), x log x at the ends
          (local.set $e2 (f64.mul (local.get $e) (local.get $e)))
          (local.set $self
            (f64.mul (f64.mul (local.get $zp) (f64.const 0x1.a36e2eb1c432dp-14)) (local.get $logEps)))
          (if (i32.gt_s (local.get $len) (i32.const 2))
            (then
              ;; a8 = (start + 1)·8 is s8 + 8 (offset=8), b8 = (end - 1)·8
              (local.set $b8 (i32.sub (local.get $e8) (i32.const 8)))
              (local.set $self
                (f64.add (local.get $self)
                  (f64.add
                    (f64.add
                      (f64.add
                        (f64.sub
                          (f64.sub (f64.load (i32.add (local.get $A) (local.get $b8)))
                            (f64.load offset=8 (i32.add (local.get $A) (local.get $s8))))
                          (f64.mul (local.get $e)
                            (f64.sub (f64.load (i32.add (local.get $L) (local.get $b8)))
                              (f64.load offset=8 (i32.add (local.get $L) (local.get $s8))))))
                        (f64.mul (f64.div (local.get $e2) (f64.const 2))
                          (f64.sub (f64.load (i32.add (local.get $R1) (local.get $b8)))
                            (f64.load offset=8 (i32.add (local.get $R1) (local.get $s8))))))
                      (f64.mul (f64.div (f64.mul (local.get $e2) (local.get $e)) (f64.const 6))
                        (f64.sub (f64.load (i32.add (local.get $R2) (local.get $b8)))
                          (f64.load offset=8 (i32.add (local.get $R2) (local.get $s8))))))
                    (f64.mul (f64.div (f64.mul (local.get $e2) (local.get $e2)) (f64.const 12))
                      (f64.sub (f64.load (i32.add (local.get $R3) (local.get $b8)))
                        (f64.load offset=8 (i32.add (local.get $R3) (local.get $s8))))))))))
          ;; xlogx(p0 - e), xlogx(pl - e) where p0, pl are not 0 (x log x, 0 for x <= 0)
          (local.set $lg
            (call $ln2
              (f64x2.replace_lane 1 (f64x2.splat (f64.sub (local.get $p0) (local.get $e)))
                (f64.sub (local.get $pl) (local.get $e)))
              (local.get $logt)))
          (if (f64.ne (local.get $p0) (f64.const 0))
            (then
              (local.set $x (f64.sub (local.get $p0) (local.get $e)))
              (local.set $self
                (f64.add (local.get $self)
                  (if (result f64) (f64.gt (local.get $x) (f64.const 0))
                    (then (f64.mul (local.get $x) (f64x2.extract_lane 0 (local.get $lg))))
                    (else (f64.const 0)))))))
          (if (f64.ne (local.get $pl) (f64.const 0))
            (then
              (local.set $x (f64.sub (local.get $pl) (local.get $e)))
              (local.set $self
                (f64.add (local.get $self)
                  (if (result f64) (f64.gt (local.get $x) (f64.const 0))
                    (then (f64.mul (local.get $x) (f64x2.extract_lane 1 (local.get $lg))))
                    (else (f64.const 0)))))))
          (local.set $score
            (f64.add
              (f64.sub
                (f64.sub (f64.div (local.get $self) (local.get $total)) (local.get $logTotal))
                (f64.div (local.get $cross) (local.get $total)))
              (f64x2.extract_lane 0 (call $ln2 (f64x2.splat (local.get $sq)) (local.get $logt))))))
        (f64.store (local.get $out) (local.get $score))
        (local.set $out (i32.add (local.get $out) (i32.const 8)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $candidates))))

  ;; The prefix sums of tablesOf (src/core/methods/entropyFastTables.ts) over the `n` counts at $hist:
  ;; H, Z, A, L, R1, R2, R3, n + 1 float64 each, one after another right after the counts. The same
  ;; float64 operations in the same order (a running sum kept in a local is the value the JS loop
  ;; reads back); log h, 1/h, 1/(h·h), 1/((h·h)·h) from the level table for an integer h below 4096
  ;; (the same bits), computed otherwise. Answers 0 when a non-zero count is below 1 (tablesOf's null:
  ;; the caller runs the exhaustive search), else 1.
  (func (export "tables") (param $hist i32) (param $n i32) (param $levels i32) (result i32)
    (local $S i32) (local $at i32) (local $end i32) (local $t i32) (local $p i32) (local $h f64) (local $lg f64)
    (local $r1 f64) (local $r2 f64) (local $r3 f64)
    (local $H f64) (local $Z f64) (local $A f64) (local $L f64) (local $R1 f64) (local $R2 f64) (local $R3 f64)
    (local.set $S (i32.shl (i32.add (local.get $n) (i32.const 1)) (i32.const 3)))
    ;; $at: &H[k + 1] for count k (at $hist + 8k); the other arrays $S bytes apart; row 0 is zeros
    (local.set $end (i32.add (local.get $hist) (i32.shl (local.get $n) (i32.const 3))))
    (local.set $at (local.get $end))
    (local.set $p (local.get $at))
    (f64.store (local.get $p) (f64.const 0))
    (f64.store (local.tee $p (i32.add (local.get $p) (local.get $S))) (f64.const 0))
    (f64.store (local.tee $p (i32.add (local.get $p) (local.get $S))) (f64.const 0))
    (f64.store (local.tee $p (i32.add (local.get $p) (local.get $S))) (f64.const 0))
    (f64.store (local.tee $p (i32.add (local.get $p) (local.get $S))) (f64.const 0))
    (f64.store (local.tee $p (i32.add (local.get $p) (local.get $S))) (f64.const 0))
    (f64.store (local.tee $p (i32.add (local.get $p) (local.get $S))) (f64.const 0))
    (block $done
      (loop $bins
        (br_if $done (i32.ge_u (local.get $hist) (local.get $end)))
        (local.set $h (f64.load (local.get $hist)))
        (local.set $at (i32.add (local.get $at) (i32.const 8)))
        (local.set $H (f64.add (local.get $H) (local.get $h)))
        (if (f64.ne (local.get $h) (f64.const 0))
          (then
            (if (f64.lt (local.get $h) (f64.const 1)) (then (return (i32.const 0))))
            (if (i32.and (f64.lt (local.get $h) (f64.const 4096)) (f64.eq (f64.trunc (local.get $h)) (local.get $h)))
              (then
                (local.set $t
                  (i32.add (local.get $levels) (i32.shl (i32.trunc_f64_u (local.get $h)) (i32.const 6))))
                (local.set $lg (f64.load (local.get $t)))
                (local.set $r1 (f64.load offset=8 (local.get $t)))
                (local.set $r2 (f64.load offset=32 (local.get $t)))
                (local.set $r3 (f64.load offset=40 (local.get $t))))
              (else
                (local.set $lg (call $log (local.get $h)))
                (local.set $r1 (f64.div (f64.const 1) (local.get $h)))
                (local.set $r2 (f64.div (f64.const 1) (f64.mul (local.get $h) (local.get $h))))
                (local.set $r3
                  (f64.div (f64.const 1) (f64.mul (f64.mul (local.get $h) (local.get $h)) (local.get $h))))))
            (local.set $Z (f64.add (local.get $Z) (f64.const 1)))
            (local.set $A (f64.add (local.get $A) (f64.mul (local.get $h) (local.get $lg))))
            ;; L[k] + lg + 1, left to right as the JS adds
            (local.set $L (f64.add (f64.add (local.get $L) (local.get $lg)) (f64.const 1)))
            (local.set $R1 (f64.add (local.get $R1) (local.get $r1)))
            (local.set $R2 (f64.add (local.get $R2) (local.get $r2)))
            (local.set $R3 (f64.add (local.get $R3) (local.get $r3)))))
        ;; the seven sums at &H[k + 1] and $S, 2S, ..., 6S bytes on (inline: a call a bin cost more)
        (local.set $p (local.get $at))
        (f64.store (local.get $p) (local.get $H))
        (f64.store (local.tee $p (i32.add (local.get $p) (local.get $S))) (local.get $Z))
        (f64.store (local.tee $p (i32.add (local.get $p) (local.get $S))) (local.get $A))
        (f64.store (local.tee $p (i32.add (local.get $p) (local.get $S))) (local.get $L))
        (f64.store (local.tee $p (i32.add (local.get $p) (local.get $S))) (local.get $R1))
        (f64.store (local.tee $p (i32.add (local.get $p) (local.get $S))) (local.get $R2))
        (f64.store (local.tee $p (i32.add (local.get $p) (local.get $S))) (local.get $R3))
        (local.set $hist (i32.add (local.get $hist) (i32.const 8)))
        (br $bins)))
    (i32.const 1))

  ;; The natural logarithm of both lanes (positive, finite, normal; a lane outside that gives a value
  ;; the caller discards), our own, for the scores: x = 2^k·m, m in [1, 2); j = m's top 7 mantissa bits
  ;; picks c_j = 1 + (j + 1/2)/128, whose 1/c_j and -log(1/c_j) the caller tabulates at $logt (16 bytes
  ;; a j, Math.log's); r = m·(1/c_j) - 1 (the product rounded once, the subtraction exact: Sterbenz),
  ;; |r| < 0.0040; log x = k·ln 2 + (-log(1/c_j) + log1p r), log1p r to r⁵ (Estrin: a short chain).
  ;; Error bound: the terms left out, < r⁶/6/(1 - r) < 7e-16; the product's rounding moves r by
  ;; < 1.2e-16, the polynomial's and the table's roundings add < 2e-16; k·ln 2 (ln 2 rounded, then
  ;; the product) and the last sum add at most |k|·1.2e-16 + ulp(|log x|)/2. For x in [2^-64, 2^64]
  ;; the result is within 2e-14 of log x (test/unit/entropyBlocksKernel.test.ts checks it against
  ;; Math.log). Each logarithm enters a score weighted by at most ~1 (w/total, x/total, or 1 for
  ;; log Sq), so a score moves by < 1e-13, far inside the margin (1e-4 relative, 1e-6 absolute)
  ;; within which entropy.ts re-scores candidates exactly: this pass only chooses which candidates
  ;; are re-scored, and the range the search returns cannot change.
  (func $ln2 (param $x v128) (param $logt i32) (result v128)
    (local $m v128) (local $k v128) (local $j v128) (local $a i32) (local $b i32) (local $r v128)
    (local $r2 v128)
    (local.set $m
      (v128.or (v128.and (local.get $x) (v128.const i64x2 0x000fffffffffffff 0x000fffffffffffff))
        (v128.const i64x2 0x3ff0000000000000 0x3ff0000000000000)))
    (local.set $k (i64x2.sub (i64x2.shr_u (local.get $x) (i32.const 52)) (v128.const i64x2 1023 1023)))
    ;; the table entries: $logt + 16·j for each lane
    (local.set $j (i64x2.shr_u (local.get $x) (i32.const 41)))
    (local.set $a
      (i32.add (local.get $logt) (i32.and (i32.wrap_i64 (i64x2.extract_lane 0 (local.get $j))) (i32.const 0x7f0))))
    (local.set $b
      (i32.add (local.get $logt) (i32.and (i32.wrap_i64 (i64x2.extract_lane 1 (local.get $j))) (i32.const 0x7f0))))
    (local.set $r
      (f64x2.sub
        (f64x2.mul (local.get $m)
          (f64x2.replace_lane 1 (f64x2.splat (f64.load (local.get $a))) (f64.load (local.get $b))))
        (v128.const f64x2 1 1)))
    (local.set $r2 (f64x2.mul (local.get $r) (local.get $r)))
    (f64x2.add
      (f64x2.mul
        (f64x2.convert_low_i32x4_s (i8x16.shuffle 0 1 2 3 8 9 10 11 0 1 2 3 8 9 10 11 (local.get $k) (local.get $k)))
        (v128.const f64x2 0.6931471805599453 0.6931471805599453))
      (f64x2.add
        (f64x2.replace_lane 1 (f64x2.splat (f64.load offset=8 (local.get $a))) (f64.load offset=8 (local.get $b)))
        ;; r + r²·((-1/2 + r/3) + r²·(-1/4 + r/5))
        (f64x2.add (local.get $r)
          (f64x2.mul (local.get $r2)
            (f64x2.add
              (f64x2.add (v128.const f64x2 -0.5 -0.5)
                (f64x2.mul (local.get $r) (v128.const f64x2 0.3333333333333333 0.3333333333333333)))
              (f64x2.mul (local.get $r2)
                (f64x2.add (v128.const f64x2 -0.25 -0.25)
                  (f64x2.mul (local.get $r) (v128.const f64x2 0.2 0.2))))))))))

  ;; $ln2 for tests: lane 0 of the logarithm of (a, b), with the table at $logt
  (func (export "ln2") (param $a f64) (param $b f64) (param $logt i32) (result f64)
    (f64x2.extract_lane 0
      (call $ln2 (f64x2.replace_lane 1 (f64x2.splat (local.get $a)) (local.get $b)) (local.get $logt)))))
