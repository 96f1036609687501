#!/bin/sh
# make test-mpi: build/ntk-mpi on 1, 2 and 4 processes (loopback) against the single-process
# build/ntk. kernel: equal as text (bit for bit: the tiles compute every entry as ntk_kernel
# does); predict (kernel regression through ScaLAPACK pdpotrf/pdpotrs): every number within
# 1e-10·(1 + |ref|). Block sizes 3, 5 and 64 on 37 train / 23 test points (3 and 5 do not
# divide 37 or 23; 64 is one block), the squarest grid and a 2×1 / 1×4 one.
set -u
cd "$(dirname "$0")/../.."
B=build/mpitest
mkdir -p $B
MPIRUN="mpirun --oversubscribe"
[ "$(id -u)" = 0 ] && MPIRUN="$MPIRUN --allow-run-as-root"
MPIRUN="$MPIRUN --mca btl self,tcp,vader -x OMP_NUM_THREADS=1 -x OPENBLAS_NUM_THREADS=1"
pass=0
fail=0
gen() { # rows cols seed file
  awk -v r=$1 -v c=$2 -v s=$3 'BEGIN { x = s; for (i = 0; i < r; i++) { line = ""; for (j = 0; j < c; j++) {
    x = (x * 1103515245 + 12345) % 2147483648; line = line (j ? "," : "") sprintf("%.6f", x / 2147483648 * 2 - 1) } print line } }' > $4
}
gen 37 6 1 $B/x.txt
gen 23 6 2 $B/xt.txt
gen 37 2 3 $B/y.txt
close_enough() { # a b: every field within 1e-10·(1 + |b|)
  paste -d'|' "$1" "$2" | awk -F'|' '{ n = split($1, a, ","); m = split($2, b, ","); if (n != m) { bad = 1; exit }
    for (i = 1; i <= n; i++) { d = a[i] - b[i]; if (d < 0) d = -d; t = b[i] < 0 ? -b[i] : b[i]; if (d > 1e-10 * (1 + t)) { bad = 1; exit } } }
    END { exit bad }' && [ "$(wc -l < "$1")" = "$(wc -l < "$2")" ]
}
check() { # label, command status
  if [ "$2" = 0 ]; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL $1"; fi
}
ARCH="--depth 2 --act relu --w-std 1.4 --b-std 0.1"
./build/ntk kernel $ARCH $B/x.txt > $B/k_ref.txt || exit 1
./build/ntk kernel $ARCH --get nngp $B/xt.txt $B/x.txt > $B/k2_ref.txt || exit 1
./build/ntk predict $ARCH --train $B/x.txt --targets $B/y.txt --test $B/xt.txt --diag-reg 1e-4 > $B/p_ref.txt || exit 1
./build/ntk predict $ARCH --get nngp --train $B/x.txt --targets $B/y.txt --test $B/xt.txt --diag-reg 1e-3 --diag-reg-absolute > $B/p2_ref.txt || exit 1
for np in 1 2 4; do
  for nb in 3 5 64; do
    grids="auto"
    [ $np = 2 ] && grids="auto 2x1"
    [ $np = 4 ] && grids="auto 1x4"
    for gr in $grids; do
      G=""
      [ $gr != auto ] && G="--grid $gr"
      $MPIRUN -np $np ./build/ntk-mpi kernel $ARCH --block $nb $G $B/x.txt > $B/k.txt 2> $B/err.txt
      cmp -s $B/k.txt $B/k_ref.txt; check "kernel x2 = x1, $np processes, block $nb, grid $gr (bit for bit)" $?
      $MPIRUN -np $np ./build/ntk-mpi kernel $ARCH --get nngp --block $nb $G $B/xt.txt $B/x.txt > $B/k2.txt 2> $B/err.txt
      cmp -s $B/k2.txt $B/k2_ref.txt; check "kernel x1, x2 (nngp), $np processes, block $nb, grid $gr (bit for bit)" $?
      $MPIRUN -np $np ./build/ntk-mpi predict $ARCH --train $B/x.txt --targets $B/y.txt --test $B/xt.txt --diag-reg 1e-4 \
        --block $nb $G > $B/p.txt 2> $B/err.txt
      close_enough $B/p.txt $B/p_ref.txt; check "predict (ntk), $np processes, block $nb, grid $gr (1e-10)" $?
      $MPIRUN -np $np ./build/ntk-mpi predict $ARCH --get nngp --train $B/x.txt --targets $B/y.txt --test $B/xt.txt \
        --diag-reg 1e-3 --diag-reg-absolute --block $nb $G > $B/p2.txt 2> $B/err.txt
      close_enough $B/p2.txt $B/p2_ref.txt; check "predict (nngp, absolute diag-reg), $np processes, block $nb, grid $gr (1e-10)" $?
    done
  done
done
# a mutation of the reference must fail the comparison (the check can fail)
awk -F, 'NR == 3 { $1 = $1 * (1 + 1e-8) } { print }' OFS=, $B/p_ref.txt > $B/p_mut.txt
if close_enough $B/p_mut.txt $B/p_ref.txt; then check "the 1e-10 comparison rejects a 1e-8 change" 1; else check "mutation" 0; fi
echo "$pass passed, $fail failed"
[ $fail = 0 ]
