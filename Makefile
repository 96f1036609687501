# ntk.h — build, test, demo, bench, and the portability checks CI runs. The library itself is
# ntk.h; nothing here is needed to use it.
CC      ?= cc
CFLAGS  ?= -O2
WARN     = -Wall -Wextra -Wpedantic -Wshadow
OPENMP  ?= -fopenmp
LDLIBS   = -lm
BUILD    = build
TESTSRC  = tests/test_main.c tests/test_float.c tests/test_tiles_mem.c tests/test_faults.c

# OpenBLAS/LAPACKE are used by bench/ only (a comparison column), and only if installed.
OPENBLAS_H := $(firstword $(wildcard /usr/include/*/openblas-pthread/cblas.h /usr/include/openblas/cblas.h))
ifneq ($(OPENBLAS_H),)
BENCH_BLAS = -DNTK_BENCH_OPENBLAS -I$(dir $(OPENBLAS_H)) -llapacke -lopenblas
endif

.PHONY: all test demo bench clean fashion mpi test-mpi matrix test-aarch64 test-riscv64 mcu sanitize valgrind tsan fuzz ci-extra ci-steps
all: $(BUILD)/test $(BUILD)/demo $(BUILD)/ntk

$(BUILD):
	mkdir -p $(BUILD)

# Tests are built without -march: run-time dispatch picks the SIMD kernels, and the tests run
# every kernel set the CPU supports against the scalar reference.
$(BUILD)/test: tests/*.c tests/*.h ntk.h | $(BUILD)
	$(CC) $(CFLAGS) $(WARN) $(OPENMP) -g $(TESTSRC) -o $@ $(LDLIBS)

$(BUILD)/ntk: examples/ntk_cli.c ntk.h | $(BUILD)
	$(CC) $(CFLAGS) $(WARN) $(OPENMP) examples/ntk_cli.c -o $@ $(LDLIBS)

$(BUILD)/demo: examples/demo.c examples/svg.h ntk.h | $(BUILD)
	$(CC) $(CFLAGS) -march=native $(OPENMP) examples/demo.c -o $@ $(LDLIBS)

$(BUILD)/bench_o2.o: bench/bench_o2.c ntk.h | $(BUILD)
	$(CC) -O2 $(OPENMP) -c bench/bench_o2.c -o $@

$(BUILD)/bench_sp_f64.o: bench/bench_spatial.c ntk.h | $(BUILD)
	$(CC) -O2 $(OPENMP) -DBENCH_SP_SUFFIX=_f64 -c bench/bench_spatial.c -o $@
$(BUILD)/bench_sp_f32.o: bench/bench_spatial.c ntk.h | $(BUILD)
	$(CC) -O2 $(OPENMP) -DBENCH_SP_SUFFIX=_f32 -DNTK_REAL_FLOAT -c bench/bench_spatial.c -o $@

$(BUILD)/bench: bench/bench.c $(BUILD)/bench_o2.o $(BUILD)/bench_sp_f64.o $(BUILD)/bench_sp_f32.o ntk.h | $(BUILD)
	$(CC) -O2 -march=native $(OPENMP) bench/bench.c $(BUILD)/bench_o2.o $(BUILD)/bench_sp_f64.o $(BUILD)/bench_sp_f32.o -o $@ $(BENCH_BLAS) $(LDLIBS)

test: $(BUILD)/test $(BUILD)/ntk $(BUILD)/libntk.so
	NTK_PYTHON=$(PYTHON) ./$(BUILD)/test

demo: $(BUILD)/demo
	./$(BUILD)/demo

# OPENBLAS_CORETYPE would pin OpenBLAS to a slower kernel set; measure it as it detects itself.
bench: $(BUILD)/bench $(BUILD)/libntk.so
	env -u OPENBLAS_CORETYPE OPENBLAS_THREAD_TIMEOUT=4 ./$(BUILD)/bench $(FILTER)
	$(PYTHON) bench/bench_py.py $(FILTER)

# ---- the shared library, the Python package, installing ------------------------------------
# make lib: build/libntk.so (ntk.h with OpenMP, the public API exported, nothing else). The
# soname carries the major version, and for 0.x the minor too (pre-1.0 layouts may change).
NTK_VERSION := $(shell sed -n 's/^\#define NTK_VERSION_STRING "\(.*\)"/\1/p' ntk.h)
NTK_MAJOR   := $(word 1,$(subst ., ,$(NTK_VERSION)))
NTK_MINOR   := $(word 2,$(subst ., ,$(NTK_VERSION)))
SONAME      := libntk.so.$(if $(filter 0,$(NTK_MAJOR)),0.$(NTK_MINOR),$(NTK_MAJOR))
REALNAME    := libntk.so.$(NTK_VERSION)
# a python3 with numpy if there is one (the Python tests skip without numpy)
PYTHON ?= $(shell for p in python3 /usr/bin/python3; do $$p -c 'import numpy' 2>/dev/null && { echo $$p; exit 0; }; done; echo python3)
PREFIX  ?= /usr/local
LIBDIR  ?= $(PREFIX)/lib
PYTHONDIR ?= $(shell $(PYTHON) -c 'import sysconfig; print(sysconfig.get_path("purelib", "posix_prefix", vars={"base": "$(PREFIX)", "platbase": "$(PREFIX)"}))' 2>/dev/null || echo $(PREFIX)/lib/python3/site-packages)
PYFILES  = $(wildcard python/ntk/*.py)

.PHONY: lib install uninstall
lib: $(BUILD)/libntk.so
$(BUILD)/$(REALNAME): lib/libntk.c ntk.h | $(BUILD)
	$(CC) $(CFLAGS) $(WARN) $(OPENMP) -fPIC -shared -fvisibility=hidden -Wl,-soname,$(SONAME) lib/libntk.c -o $@ $(LDLIBS)
$(BUILD)/libntk.so: $(BUILD)/$(REALNAME)
	ln -sf $(REALNAME) $(BUILD)/$(SONAME)
	ln -sf $(REALNAME) $@

# make install PREFIX=... [DESTDIR=...]: the header, the library, pkg-config and CMake files,
# the CLI and the Python package (told where the library is: $(LIBDIR), without DESTDIR).
install: $(BUILD)/libntk.so $(BUILD)/ntk
	install -d $(DESTDIR)$(PREFIX)/include $(DESTDIR)$(LIBDIR)/pkgconfig $(DESTDIR)$(LIBDIR)/cmake/ntk \
	  $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PYTHONDIR)/ntk
	install -m 644 ntk.h $(DESTDIR)$(PREFIX)/include/ntk.h
	install -m 755 $(BUILD)/$(REALNAME) $(DESTDIR)$(LIBDIR)/$(REALNAME)
	ln -sf $(REALNAME) $(DESTDIR)$(LIBDIR)/$(SONAME)
	ln -sf $(REALNAME) $(DESTDIR)$(LIBDIR)/libntk.so
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LIBDIR@|$(LIBDIR)|' -e 's|@VERSION@|$(NTK_VERSION)|' lib/ntk.pc.in \
	  > $(DESTDIR)$(LIBDIR)/pkgconfig/ntk.pc
	sed -e "s|@REL_PREFIX@|$$(realpath -m --relative-to=$(LIBDIR)/cmake/ntk $(PREFIX))|" \
	  -e "s|@LIBREL@|$$(realpath -m --relative-to=$(PREFIX) $(LIBDIR))|" -e 's|@REALNAME@|$(REALNAME)|' \
	  -e 's|@SONAME@|$(SONAME)|' -e 's|@VERSION@|$(NTK_VERSION)|' lib/ntkConfig.cmake.in > $(DESTDIR)$(LIBDIR)/cmake/ntk/ntkConfig.cmake
	sed -e 's|@VERSION@|$(NTK_VERSION)|' -e 's|@MAJOR@|$(NTK_MAJOR)|' -e 's|@MINOR@|$(NTK_MINOR)|' \
	  lib/ntkConfigVersion.cmake.in > $(DESTDIR)$(LIBDIR)/cmake/ntk/ntkConfigVersion.cmake
	install -m 755 $(BUILD)/ntk $(DESTDIR)$(PREFIX)/bin/ntk
	install -m 644 $(PYFILES) $(DESTDIR)$(PYTHONDIR)/ntk/
	printf '# written by make install\nLIBRARY = %s\n' "'$(LIBDIR)/$(SONAME)'" > $(DESTDIR)$(PYTHONDIR)/ntk/_installed.py
	@echo "installed ntk $(NTK_VERSION) into $(DESTDIR)$(PREFIX) (Python package: $(PYTHONDIR)/ntk)"
uninstall:
	rm -f $(DESTDIR)$(PREFIX)/include/ntk.h $(DESTDIR)$(LIBDIR)/$(REALNAME) $(DESTDIR)$(LIBDIR)/$(SONAME) \
	  $(DESTDIR)$(LIBDIR)/libntk.so $(DESTDIR)$(LIBDIR)/pkgconfig/ntk.pc $(DESTDIR)$(PREFIX)/bin/ntk \
	  $(DESTDIR)$(LIBDIR)/cmake/ntk/ntkConfig.cmake $(DESTDIR)$(LIBDIR)/cmake/ntk/ntkConfigVersion.cmake
	rm -f $(addprefix $(DESTDIR)$(PYTHONDIR)/ntk/,$(notdir $(PYFILES)) _installed.py)
	rm -rf $(DESTDIR)$(PYTHONDIR)/ntk/__pycache__
	-rmdir $(DESTDIR)$(LIBDIR)/cmake/ntk $(DESTDIR)$(PYTHONDIR)/ntk 2>/dev/null

# ---- Fashion-MNIST (Debian's dataset-fashion-mnist; gunzip here, no zlib in the library) ------
FMNIST_DIR ?= /usr/share/datasets/fashion-mnist
FMNIST_FILES = train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte t10k-labels-idx1-ubyte
$(BUILD)/fashion-mnist/%: | $(BUILD)
	@mkdir -p $(BUILD)/fashion-mnist
	@if [ ! -f $(FMNIST_DIR)/$*.gz ]; then echo "Fashion-MNIST not found in $(FMNIST_DIR): apt-get install dataset-fashion-mnist (or make fashion FMNIST_DIR=...)"; exit 1; fi
	gzip -dc $(FMNIST_DIR)/$*.gz > $@
$(BUILD)/fashion: examples/fashion_mnist.c ntk.h | $(BUILD)
	$(CC) $(CFLAGS) -march=native $(OPENMP) examples/fashion_mnist.c -o $@ $(LDLIBS)
# MLP, CNN (Flatten) and Myrtle kernel rows, ~10 min on 2 idle cores; options through ARGS, e.g.
# make fashion ARGS="--no-conv" or ARGS="--cnn-train 10000" (README, Fashion-MNIST section)
fashion: $(BUILD)/fashion $(addprefix $(BUILD)/fashion-mnist/,$(FMNIST_FILES))
	./$(BUILD)/fashion $(BUILD)/fashion-mnist $(ARGS)

# ---- portability and robustness (CI runs all of these through .ci/run) ------------------------
# ---- MPI + ScaLAPACK (optional; Debian: openmpi-bin libopenmpi-dev libscalapack-openmpi-dev) --
MPICC ?= mpicc
SCALAPACK ?= -lscalapack-openmpi
$(BUILD)/ntk-mpi: examples/mpi/ntk_mpi.c ntk.h | $(BUILD)
	$(MPICC) $(CFLAGS) $(WARN) $(OPENMP) examples/mpi/ntk_mpi.c -o $@ $(SCALAPACK) $(LDLIBS)
mpi:
	@if command -v $(MPICC) >/dev/null 2>&1; then $(MAKE) $(BUILD)/ntk-mpi; else echo "make mpi: $(MPICC) not found (apt-get install openmpi-bin libopenmpi-dev libscalapack-openmpi-dev)"; fi
test-mpi: $(BUILD)/ntk-mpi $(BUILD)/ntk
	sh tests/mpi/test_mpi.sh

matrix:
	./tests/compile_matrix.sh

A64_CC  = aarch64-linux-gnu-gcc
A64_RUN = qemu-aarch64 -L /usr/aarch64-linux-gnu
RV_CC   = riscv64-linux-gnu-gcc
RV_RUN  = qemu-riscv64 -L /usr/riscv64-linux-gnu
# Under qemu (about 10x slower) the suite leaves out two platform-neutral sections that run
# natively and under ASan: the tiled kernel's memory bound (a counting allocator) and the
# allocation-failure sweep.
QEMU_SKIP = -tiles_mem -faults
test-aarch64: | $(BUILD)
	$(A64_CC) -O2 $(WARN) -fopenmp -DNTK_TEST_NO_CLI $(TESTSRC) -o $(BUILD)/test-aarch64 $(LDLIBS)
	$(A64_RUN) $(BUILD)/test-aarch64 $(QEMU_SKIP)
test-riscv64: | $(BUILD)
	$(RV_CC) -O2 $(WARN) -fopenmp -DNTK_TEST_NO_CLI $(TESTSRC) -o $(BUILD)/test-riscv64 $(LDLIBS)
	$(RV_RUN) $(BUILD)/test-riscv64 $(QEMU_SKIP)

# Same-seed parameters must be bit-identical across platforms: x86-64 (native), aarch64, riscv64.
params-identical: $(BUILD)/ntk | $(BUILD)
	$(A64_CC) -O2 -fopenmp examples/ntk_cli.c -o $(BUILD)/ntk-aarch64 $(LDLIBS)
	$(RV_CC) -O2 examples/ntk_cli.c -o $(BUILD)/ntk-riscv64 $(LDLIBS)
	./$(BUILD)/ntk params --depth 2 --width 300 --b-std 0.3 --seed 12345 --dim 50 > $(BUILD)/params-x86.txt
	$(A64_RUN) $(BUILD)/ntk-aarch64 params --depth 2 --width 300 --b-std 0.3 --seed 12345 --dim 50 > $(BUILD)/params-aarch64.txt
	$(RV_RUN) $(BUILD)/ntk-riscv64 params --depth 2 --width 300 --b-std 0.3 --seed 12345 --dim 50 > $(BUILD)/params-riscv64.txt
	cmp $(BUILD)/params-x86.txt $(BUILD)/params-aarch64.txt
	cmp $(BUILD)/params-x86.txt $(BUILD)/params-riscv64.txt
	@echo "params: $$(wc -l < $(BUILD)/params-x86.txt) parameters bit-identical on x86-64, aarch64, riscv64"

CM_CC     = arm-none-eabi-gcc
CM_CPU    = -mthumb -mcpu=cortex-m4 -mfpu=fpv4-sp-d16 -mfloat-abi=hard
CM_CFLAGS = $(CM_CPU) -O2 -g -Wall -Wextra -fno-math-errno -ffunction-sections -fdata-sections -DNTK_REAL_FLOAT
CM_LD     = --specs=nano.specs --specs=rdimon.specs -nostartfiles -Lexamples/mcu -T mps2-an386.ld -Wl,--gc-sections -u _printf_float
CM_RUN    = timeout 300 qemu-system-arm -M mps2-an386 -nographic -semihosting-config enable=on,target=native -icount shift=0 -kernel
mcu: | $(BUILD)
	$(CC) -O2 examples/mcu/main.c -o $(BUILD)/mcu-host $(LDLIBS)
	$(CM_CC) $(CM_CFLAGS) -DNTK_MCU_EXPECTED=$$(./$(BUILD)/mcu-host) $(CM_LD) -o $(BUILD)/mcu.elf examples/mcu/startup.c examples/mcu/main.c -lm
	arm-none-eabi-size $(BUILD)/mcu.elf
	$(CM_RUN) $(BUILD)/mcu.elf

SAN = -g -O1 -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined
# The library and the tests run with LeakSanitizer; the CLI is a one-shot process that leaves
# its arrays to the OS at exit, so its leak check is off (ASan and UBSan stay on).
sanitize: | $(BUILD)
	$(CC) $(SAN) $(OPENMP) examples/ntk_cli.c -o $(BUILD)/ntk-asan $(LDLIBS)
	$(CC) $(SAN) $(OPENMP) $(TESTSRC) -o $(BUILD)/test-asan $(LDLIBS)
	NTK_CLI="env ASAN_OPTIONS=detect_leaks=0 $(CURDIR)/$(BUILD)/ntk-asan" ./$(BUILD)/test-asan
valgrind: | $(BUILD)
	$(CC) -g -O1 $(TESTSRC) -o $(BUILD)/test-vg $(LDLIBS)
	@for t in gemm_public kernel_closed_forms kernel_bad golden predict_flow net_structured net_training faults; do \
	  valgrind -q --error-exitcode=9 --leak-check=full ./$(BUILD)/test-vg $$t > $(BUILD)/vg-$$t.log 2>&1 \
	    || { cat $(BUILD)/vg-$$t.log; exit 1; }; echo "valgrind $$t: $$(tail -1 $(BUILD)/vg-$$t.log)"; done
tsan: | $(BUILD)
	clang -g -O1 -fsanitize=thread tests/test_threads.c -o $(BUILD)/test-threads $(LDLIBS) -lpthread
	./$(BUILD)/test-threads

FUZZ_SECONDS ?= 30
fuzz: | $(BUILD)
	@mkdir -p $(BUILD)/fuzz-corpus-matrix $(BUILD)/fuzz-corpus-layers $(BUILD)/fuzz-corpus-parse
	clang -g -O1 -fsanitize=fuzzer,address,undefined tests/fuzz/fuzz_matrix.c -o $(BUILD)/fuzz-matrix $(LDLIBS)
	clang -g -O1 -fsanitize=fuzzer,address,undefined tests/fuzz/fuzz_layers.c -o $(BUILD)/fuzz-layers $(LDLIBS)
	clang -g -O1 -fsanitize=fuzzer,address,undefined tests/fuzz/fuzz_parse.c -o $(BUILD)/fuzz-parse $(LDLIBS)
	@for f in matrix layers parse; do \
	  ./$(BUILD)/fuzz-$$f -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 -artifact_prefix=$(BUILD)/fuzz-$$f- \
	    $(BUILD)/fuzz-corpus-$$f > $(BUILD)/fuzz-$$f.log 2>&1; rc=$$?; \
	  echo "fuzz-$$f: $$(grep -E 'stat::number_of_executed_units' $(BUILD)/fuzz-$$f.log) (exit $$rc)"; \
	  if [ $$rc -ne 0 ]; then grep -E "ERROR|SUMMARY|Test unit" $(BUILD)/fuzz-$$f.log; exit 1; fi; done

CI_EXTRA = matrix test-aarch64 test-riscv64 params-identical mcu sanitize valgrind tsan fuzz
ci-extra: $(CI_EXTRA)
ci-steps: # the list, for .ci/run (which times each step)
	@echo $(CI_EXTRA)

clean:
	rm -rf $(BUILD)
