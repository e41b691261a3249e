;; adler32(adler, ptr, len) -> adler, over bytes of the imported memory, 16 bytes per SIMD step.
;; A block of k <= 256 vectors (n = 16k bytes) starting from (a0, b0) ends at
;;   a = a0 + sum(x),  b = b0 + n*a0 + 16*sum_j (k-1-j)*S_j + sum_j sum_i (16-i)*x_{j,i}
;; where S_j is the byte sum of vector j. Lane sums stay far below 2^32 for k <= 256; the block is then
;; reduced modulo 65521 in 64-bit arithmetic.
(module
  (import "env" "memory" (memory 1))
  (func $hsum (param $v v128) (result i64)
    (i64.add
      (i64.add (i64.extend_i32_u (i32x4.extract_lane 0 (local.get $v))) (i64.extend_i32_u (i32x4.extract_lane 1 (local.get $v))))
      (i64.add (i64.extend_i32_u (i32x4.extract_lane 2 (local.get $v))) (i64.extend_i32_u (i32x4.extract_lane 3 (local.get $v))))))
  (func (export "adler32") (param $adler i32) (param $p i32) (param $len i32) (result i32)
    (local $a i64) (local $b i64) (local $k i32) (local $n i32) (local $end i32)
    (local $v v128) (local $va v128) (local $vb v128) (local $vp v128) (local $wl v128) (local $wh v128)
    (local.set $a (i64.extend_i32_u (i32.and (local.get $adler) (i32.const 0xffff))))
    (local.set $b (i64.extend_i32_u (i32.shr_u (local.get $adler) (i32.const 16))))
    (local.set $wl (v128.const i16x8 16 15 14 13 12 11 10 9))
    (local.set $wh (v128.const i16x8 8 7 6 5 4 3 2 1))
    (block $vectors_done
      (loop $blocks
        (local.set $k (i32.shr_u (local.get $len) (i32.const 4)))
        (br_if $vectors_done (i32.eqz (local.get $k)))
        (if (i32.gt_u (local.get $k) (i32.const 256)) (then (local.set $k (i32.const 256))))
        (local.set $n (i32.shl (local.get $k) (i32.const 4)))
        (local.set $end (i32.add (local.get $p) (local.get $n)))
        (local.set $va (v128.const i32x4 0 0 0 0))
        (local.set $vb (v128.const i32x4 0 0 0 0))
        (local.set $vp (v128.const i32x4 0 0 0 0))
        (loop $vec
          (local.set $v (v128.load (local.get $p)))
          (local.set $vp (i32x4.add (local.get $vp) (local.get $va)))
          (local.set $va (i32x4.add (local.get $va)
            (i32x4.extadd_pairwise_i16x8_u (i16x8.extadd_pairwise_i8x16_u (local.get $v)))))
          (local.set $vb (i32x4.add (local.get $vb)
            (i32x4.add
              (i32x4.dot_i16x8_s (i16x8.extend_low_i8x16_u (local.get $v)) (local.get $wl))
              (i32x4.dot_i16x8_s (i16x8.extend_high_i8x16_u (local.get $v)) (local.get $wh)))))
          (local.set $p (i32.add (local.get $p) (i32.const 16)))
          (br_if $vec (i32.lt_u (local.get $p) (local.get $end))))
        (local.set $b (i64.rem_u
          (i64.add (local.get $b)
            (i64.add (i64.mul (i64.extend_i32_u (local.get $n)) (local.get $a))
              (i64.add (i64.shl (call $hsum (local.get $vp)) (i64.const 4)) (call $hsum (local.get $vb)))))
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
