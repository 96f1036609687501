#!/bin/sh
# Consumers of an installed ntk (run by make test through tests/test_python.c; alone:
# sh tests/consumer/run.sh [ROOT]): make install into a temporary prefix; a pkg-config program
# and a CMake find_package(ntk) program (ntk::ntk header-only, ntk::shared), each checked against
# the arc-cosine formula; the installed CLI and Python package; a DESTDIR-staged install and
# make uninstall. Last line: "N passed, M failed".
ROOT=$(cd "${1:-.}" && pwd)
PY=${NTK_PYTHON:-python3}
T=$(mktemp -d "${TMPDIR:-/tmp}/ntk-consumer.XXXXXX")
P="$T/prefix"
pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL $*"; }
run() { # run WHAT CMD...: ok if CMD exits 0, else FAIL with its output
  what=$1; shift
  if "$@" > "$T/out.txt" 2>&1; then ok; else bad "$what"; sed 's/^/    /' "$T/out.txt" | tail -20; fi
}

run "make install PREFIX=$P" make -s -C "$ROOT" install PREFIX="$P" PYTHON="$PY"
for f in include/ntk.h lib/libntk.so lib/pkgconfig/ntk.pc lib/cmake/ntk/ntkConfig.cmake \
         lib/cmake/ntk/ntkConfigVersion.cmake bin/ntk; do
  if [ -e "$P/$f" ]; then ok; else bad "installed $f missing"; fi
done

if command -v pkg-config >/dev/null 2>&1; then
  export PKG_CONFIG_PATH="$P/lib/pkgconfig"
  run "pkg-config consumer builds" sh -c "cc -o '$T/pc' '$ROOT/tests/consumer/main.c' \
    \$(pkg-config --cflags --libs ntk) -Wl,-rpath,'$P/lib' -lm"
  run "pkg-config consumer runs" "$T/pc"
  v=$(pkg-config --modversion ntk)
  if [ "$v" = "$(sed -n 's/^#define NTK_VERSION_STRING "\(.*\)"/\1/p' "$ROOT/ntk.h")" ]; then ok; else bad "pkg-config version $v"; fi
else
  echo "  (pkg-config not installed: apt-get install pkg-config; its checks skipped)"
fi

if command -v cmake >/dev/null 2>&1; then
  run "cmake configure (find_package(ntk 0.1))" cmake -S "$ROOT/tests/consumer" -B "$T/cm" \
    -DCMAKE_PREFIX_PATH="$P" -DCMAKE_BUILD_TYPE=Release
  run "cmake build" cmake --build "$T/cm"
  run "cmake ntk::ntk (header-only) consumer runs" "$T/cm/use_header"
  run "cmake ntk::shared consumer runs" "$T/cm/use_shared"
  if ldd "$T/cm/use_shared" 2>/dev/null | grep -q "libntk.so"; then ok; else bad "use_shared does not link libntk.so"; fi
else
  echo "  (cmake not installed: apt-get install cmake; its checks skipped)"
fi

run "installed bin/ntk runs" sh -c "printf '1 2\n' | '$P/bin/ntk' kernel - | grep -q ."
PYDIR=$(cd "$P" && find . -path '*-packages/ntk/__init__.py' | head -1)
if [ -n "$PYDIR" ]; then
  ok
  # from another directory, so the source tree's python/ is not found by accident
  run "installed Python package imports and finds the installed library" sh -c "cd '$T' && \
    PYTHONPATH='$P/$(dirname "$(dirname "$PYDIR")")' $PY -c 'import ntk, sys; \
    sys.exit(0 if ntk.library_path.startswith(\"$P/lib/\") else 1)' || \
    { $PY -c 'import numpy' 2>/dev/null || echo numpy-missing; } | grep -q numpy-missing"
else
  bad "the Python package was not installed under $P"
fi

S="$T/stage"
run "staged install (DESTDIR)" make -s -C "$ROOT" install PREFIX=/opt/ntk DESTDIR="$S" PYTHON="$PY"
run "staged CMake config is relocatable" sh -c "grep -q 'CMAKE_CURRENT_LIST_DIR' '$S/opt/ntk/lib/cmake/ntk/ntkConfig.cmake'"
run "pkg-config file names the final prefix" grep -q '^prefix=/opt/ntk$' "$S/opt/ntk/lib/pkgconfig/ntk.pc"
run "make uninstall (DESTDIR)" make -s -C "$ROOT" uninstall PREFIX=/opt/ntk DESTDIR="$S" PYTHON="$PY"
left=$(find "$S" -type f | wc -l)
if [ "$left" -eq 0 ]; then ok; else bad "uninstall left $left files:"; find "$S" -type f | sed 's/^/    /'; fi
run "make uninstall PREFIX=$P" make -s -C "$ROOT" uninstall PREFIX="$P" PYTHON="$PY"
left=$(find "$P" -type f | wc -l)
if [ "$left" -eq 0 ]; then ok; else bad "uninstall left $left files in $P"; fi

rm -rf "$T"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
