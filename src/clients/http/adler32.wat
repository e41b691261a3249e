;; adler32(adler, ptr, len) -> adler, over bytes of the imported memory, 32 bytes per step.
;; A block of K <= 128 steps (n = 32K bytes, step J made of bytes x_{J,0..31}) starting from (a0, b0) ends at
;;   a = a0 + sum(x),  b = b0 + n*a0 + 32*sum_J (K-1-J)*S_J + sum_i (32-i)*C_i
;; where S_J is the byte sum of step J and C_i = sum_J x_{J,i} the sum of column i. Per step that is one
;; add for the running prefix (vp += va), the byte sum (va), and four column accumulators in 16-bit lanes
;; (at most 255*128 = 32640, so they cannot overflow); the column weights are applied once per block, whose
;; sums are then reduced modulo 65521 in 64-bit arithmetic.
(module
  (import "env" "memory" (memory 1))
  (func $hsum (param $v v128) (result i64)
    (i64.add
      (i64.add (i64.extend_i32_u (i32x4.extract_lane 0 (local.get $v))) (i64.extend_i32_u (i32x4.extract_lane 1 (local.get $v))))
      (i64.add (i64.extend_i32_u (i32x4.extract_lane 2 (local.get $v))) (i64.extend_i32_u (i32x4.extract_lane 3 (local.get $v))))))
  ;; sum of column sums (u16 lanes) times weights (u16 lanes), as i32x4
  (func $weigh (param $c v128) (param $w v128) (result v128)
    (i32x4.add (i32x4.extmul_low_i16x8_u (local.get $c) (local.get $w)) (i32x4.extmul_high_i16x8_u (local.get $c) (local.get $w))))
  (func (export "adler32") (param $adler i32) (param $p i32) (param $len i32) (result i32)
    (local $a i64) (local $b i64) (local $k i32) (local $n i32) (local $end i32)
    (local $v0 v128) (local $v1 v128) (local $va v128) (local $vp v128)
    (local $c0 v128) (local $c1 v128) (local $c2 v128) (local $c3 v128)
    (local.set $a (i64.extend_i32_u (i32.and (local.get $adler) (i32.const 0xffff))))
    (local.set $b (i64.extend_i32_u (i32.shr_u (local.get $adler) (i32.const 16))))
    (block $steps_done
      (loop $blocks
        (local.set $k (i32.shr_u (local.get $len) (i32.const 5)))
        (br_if $steps_done (i32.eqz (local.get $k)))
        (if (i32.gt_u (local.get $k) (i32.const 128)) (then (local.set $k (i32.const 128))))
        (local.set $n (i32.shl (local.get $k) (i32.const 5)))
        (local.set $end (i32.add (local.get $p) (local.get $n)))
        (local.set $va (v128.const i32x4 0 0 0 0))
        (local.set $vp (v128.const i32x4 0 0 0 0))
        (local.set $c0 (v128.const i32x4 0 0 0 0))
        (local.set $c1 (v128.const i32x4 0 0 0 0))
        (local.set $c2 (v128.const i32x4 0 0 0 0))
        (local.set $c3 (v128.const i32x4 0 0 0 0))
        (loop $step
          (local.set $v0 (v128.load (local.get $p)))
          (local.set $v1 (v128.load offset=16 (local.get $p)))
          (local.set $vp (i32x4.add (local.get $vp) (local.get $va)))
          (local.set $va (i32x4.add (local.get $va)
            (i32x4.extadd_pairwise_i16x8_u
              (i16x8.add (i16x8.extadd_pairwise_i8x16_u (local.get $v0)) (i16x8.extadd_pairwise_i8x16_u (local.get $v1))))))
          (local.set $c0 (i16x8.add (local.get $c0) (i16x8.extend_low_i8x16_u (local.get $v0))))
          (local.set $c1 (i16x8.add (local.get $c1) (i16x8.extend_high_i8x16_u (local.get $v0))))
          (local.set $c2 (i16x8.add (local.get $c2) (i16x8.extend_low_i8x16_u (local.get $v1))))
          (local.set $c3 (i16x8.add (local.get $c3) (i16x8.extend_high_i8x16_u (local.get $v1))))
          (local.set $p (i32.add (local.get $p) (i32.const 32)))
          (br_if $step (i32.lt_u (local.get $p) (local.get $end))))
        (local.set $b (i64.rem_u
          (i64.add (local.get $b)
            (i64.add (i64.mul (i64.extend_i32_u (local.get $n)) (local.get $a))
              (i64.add (i64.shl (call $hsum (local.get $vp)) (i64.const 5))
                (call $hsum
                  (i32x4.add
                    (i32x4.add
                      (call $weigh (local.get $c0) (v128.const i16x8 32 31 30 29 28 27 26 25))
                      (call $weigh (local.get $c1) (v128.const i16x8 24 23 22 21 20 19 18 17)))
                    (i32x4.add
                      (call $weigh (local.get $c2) (v128.const i16x8 16 15 14 13 12 11 10 9))
                      (call $weigh (local.get $c3) (v128.const i16x8 8 7 6 5 4 3 2 1))))))))
          (i64.const 65521)))
        (local.set $a (i64.rem_u (i64.add (local.get $a) (call $hsum (local.get $va))) (i64.const 65521)))
        (local.set $len (i32.sub (local.get $len) (local.get $n)))
        (br $blocks)))
    (block $tail_done
      (loop $tail
        (br_if $tail_done (i32.eqz (local.get $len)))
        (local.set $a (i64.add (local.get $a) (i64.load8_u (local.get $p))))
        (local.set $b (i64.add (local.get $b) (local.get $a)))
        (local.set $p (i32.add (local.get $p) (i32.const 1)))
        (local.set $len (i32.sub (local.get $len) (i32.const 1)))
        (br $tail)))
    (i32.or
      (i32.shl (i32.wrap_i64 (i64.rem_u (local.get $b) (i64.const 65521))) (i32.const 16))
      (i32.wrap_i64 (i64.rem_u (local.get $a) (i64.const 65521))))))
