#!/bin/sh
# The compile matrix (warnings are errors): C99/C11 with gcc and clang, C++11 with g++ and
# clang++, ntk.h included twice, two NTK_STATIC translation units, NTK_REAL_FLOAT, every NTK_SIMD
# path this host can compile, plain -O2 without -march, with and without -fopenmp.
set -u
cd "$(dirname "$0")/.."
out=build/matrix
mkdir -p $out
W="-Wall -Wextra -Wpedantic -Wshadow -Werror"
# Each case is a job in a directory of its own (its log, its binaries); the jobs run
# NTK_MATRIX_JOBS at a time (default 2: the compiles are independent and the machine has 2
# cores), then the results are counted in order. run: one step of the current job (a compile,
# or the run of what it built); a job stops at its first failing step.
jobs=${NTK_MATRIX_JOBS:-2}
rm -rf $out/j*
nj=0
q() { # the shell-quoted words
  for w in "$@"; do printf "'%s' " "$(printf %s "$w" | sed "s/'/'\\\\''/g")"; done
}
job() { # label: a new job
  nj=$((nj + 1))
  d=$out/j$(printf %04d $nj)
  mkdir -p $d
  printf '%s\n' "$1" >$d/label
  printf 'set -e\ncd "%s"\n' "$PWD" >$d/cmd.sh
}
run() { # label, command... ($out in the command: the job's directory)
  job "$1"
  shift
  step "$@"
}
step() { # command...: one more step of the current job
  printf '%s\n' "$(q "$@" | sed "s|$out/|$d/|g")" >>$d/cmd.sh
}
for cc in gcc clang; do
  command -v $cc >/dev/null || continue
  for std in c99 c11; do
    for omp in "" "-fopenmp"; do
      for arch in "" "-march=native"; do
        for extra in "" "-DNTK_REAL_FLOAT"; do
          flags="-std=$std -O2 $arch $omp $extra $W"
          run "$cc $flags" $cc $flags tests/compile/tu_a.c tests/compile/tu_b.c -o $out/a -lm
          step $out/a
        done
      done
    done
    for simd in NTK_SIMD_SCALAR NTK_SIMD_AVX2 NTK_SIMD_AVX512; do
      run "$cc -std=$std -DNTK_SIMD=$simd" $cc -std=$std -O2 -DNTK_SIMD=$simd $W -c tests/compile/tu_a.c -o $out/s.o
    done
    run "$cc -std=$std two NTK_STATIC units" sh -c "$cc -std=$std -O2 $W -DTU_MAIN -c tests/compile/tu_static.c -o $out/s1.o && $cc -std=$std -O2 $W -c tests/compile/tu_static.c -o $out/s2.o && $cc $out/s1.o $out/s2.o -o $out/s -lm && $out/s"
  done
done
for cxx in g++ clang++; do
  command -v $cxx >/dev/null || continue
  for omp in "" "-fopenmp"; do
    for extra in "" "-DNTK_REAL_FLOAT" "-march=native"; do
      flags="-std=c++11 -O2 $omp $extra $W"
      run "$cxx $flags" $cxx -x c++ $flags tests/compile/tu_a.c tests/compile/tu_b.c -o $out/a -lm
      step $out/a
    done
  done
done
# -ffast-math / -ffinite-math-only: NaN and Inf input must still be reported
for cc in gcc clang; do
  command -v $cc >/dev/null || continue
  for fm in -ffast-math -ffinite-math-only; do
    for extra in "" "-DNTK_REAL_FLOAT"; do
      run "$cc $fm $extra" $cc -std=c99 -O2 $fm $extra $W tests/compile/tu_fastmath.c -o $out/fm -lm
      step $out/fm
    done
  done
done
if command -v aarch64-linux-gnu-gcc >/dev/null; then
  for simd in "" "-DNTK_SIMD=NTK_SIMD_NEON" "-DNTK_SIMD=NTK_SIMD_SCALAR"; do
    run "aarch64 $simd" aarch64-linux-gnu-gcc -std=c99 -O2 $simd $W -c tests/compile/tu_a.c -o $out/n.o
  done
fi
ls -d $out/j* | xargs -P "$jobs" -I{} sh -c 'if sh {}/cmd.sh >{}/log.txt 2>&1; then echo pass >{}/res; else echo fail >{}/res; fi'
pass=0
fail=0
for d in $out/j*; do
  if [ "$(cat $d/res 2>/dev/null)" = pass ]; then
    pass=$((pass + 1))
  else
    fail=$((fail + 1))
    echo "FAIL [$(cat $d/label)]:"
    tail -n +3 $d/cmd.sh
    head -20 $d/log.txt
  fi
done
echo "compile matrix: $pass passed, $fail failed"
[ $fail -eq 0 ]
