# ntk.h — build, test, demo, bench. The library itself is ntk.h; nothing here is needed to use it.
CC      ?= cc
CFLAGS  ?= -O2
WARN     = -Wall -Wextra -Wpedantic -Wshadow
OPENMP  ?= -fopenmp
LDLIBS   = -lm
BUILD    = build

# OpenBLAS is used by bench/ only (a comparison column), and only if it is installed.
OPENBLAS_H := $(firstword $(wildcard /usr/include/*/openblas-pthread/cblas.h /usr/include/openblas/cblas.h))
ifneq ($(OPENBLAS_H),)
BENCH_BLAS = -DNTK_BENCH_OPENBLAS -I$(dir $(OPENBLAS_H)) -llapacke -lopenblas
endif

.PHONY: all test demo bench clean
all: $(BUILD)/test $(BUILD)/demo $(BUILD)/ntk

$(BUILD):
	mkdir -p $(BUILD)

# Tests are built without -march: run-time dispatch picks the SIMD kernels, and the tests run
# every kernel set the CPU supports against the scalar reference.
$(BUILD)/test: tests/*.c tests/*.h ntk.h | $(BUILD)
	$(CC) $(CFLAGS) $(WARN) $(OPENMP) -g tests/test_main.c tests/test_float.c -o $@ $(LDLIBS)

$(BUILD)/ntk: examples/ntk_cli.c ntk.h | $(BUILD)
	$(CC) $(CFLAGS) $(WARN) $(OPENMP) examples/ntk_cli.c -o $@ $(LDLIBS)

$(BUILD)/demo: examples/demo.c ntk.h | $(BUILD)
	$(CC) $(CFLAGS) -march=native $(OPENMP) examples/demo.c -o $@ $(LDLIBS)

$(BUILD)/bench_o2.o: bench/bench_o2.c ntk.h | $(BUILD)
	$(CC) -O2 $(OPENMP) -c bench/bench_o2.c -o $@

$(BUILD)/bench: bench/bench.c $(BUILD)/bench_o2.o ntk.h | $(BUILD)
	$(CC) -O2 -march=native $(OPENMP) bench/bench.c $(BUILD)/bench_o2.o -o $@ $(BENCH_BLAS) $(LDLIBS)

test: $(BUILD)/test $(BUILD)/ntk
	./$(BUILD)/test

demo: $(BUILD)/demo
	./$(BUILD)/demo

# OPENBLAS_CORETYPE would pin OpenBLAS to a slower kernel set; measure it as it detects itself.
bench: $(BUILD)/bench
	env -u OPENBLAS_CORETYPE ./$(BUILD)/bench $(FILTER)

clean:
	rm -rf $(BUILD)
