/* make test runs two programs outside this binary and counts their checks here: the Python
   package's tests (tests/test_python.py, which print "N passed, M failed" last; without numpy
   they say so and count nothing) and the installed-library consumers (tests/consumer/run.sh:
   make install into a temporary prefix, then a CMake find_package(ntk) program and a
   pkg-config program built and run against it). Both need build/libntk.so (make lib; `make
   test` builds it); without it each says so and counts nothing. NTK_PYTHON names the
   interpreter (make sets one that has numpy). */
#if (defined(__unix__) || defined(__APPLE__)) && !defined(NTK_TEST_NO_CLI)
static const char *tpy_root(void) { return getenv("NTK_ROOT") ? getenv("NTK_ROOT") : "."; }

static int tpy_have_lib(const char *what) {
  char path[1024];
  FILE *f;
  snprintf(path, sizeof path, "%s/build/libntk.so", tpy_root());
  f = fopen(path, "rb");
  if (!f) {
    printf("  SKIP %s: %s not built (make lib; make test builds it)\n", what, path);
    return 0;
  }
  fclose(f);
  return 1;
}

/* runs cmd, echoes its output indented, adds its last "N passed, M failed" line to the counts;
   a run that ends without one (a crash) or exits non-zero with no failure counted is a failure */
static void tpy_run(const char *what, const char *cmd) {
  char line[4096];
  long np = -1, nf = -1;
  int st;
  FILE *p = popen(cmd, "r");
  if (!p) {
    T_CHECK(0, "%s: cannot run %s", what, cmd);
    return;
  }
  while (fgets(line, sizeof line, p)) {
    long a, b;
    if (sscanf(line, "%ld passed, %ld failed", &a, &b) == 2) np = a, nf = b;
    else printf("  %s", line);
  }
  st = pclose(p);
  if (np < 0) {
    T_CHECK(0, "%s: no 'N passed, M failed' line from %s (exit status %d)", what, cmd, st);
    return;
  }
  printf("  %s: %ld passed, %ld failed\n", what, np, nf);
  t_passed += np, t_failed += nf;
  T_CHECK(nf > 0 || st == 0, "%s exited with status %d and no failure counted", what, st);
}

static void test_python(void) {
  char cmd[2048];
  t_section("python");
  if (!tpy_have_lib("python")) return;
  snprintf(cmd, sizeof cmd, "%s %s/tests/test_python.py 2>&1",
           getenv("NTK_PYTHON") ? getenv("NTK_PYTHON") : "python3", tpy_root());
  tpy_run("tests/test_python.py", cmd);
}

static void test_consumer(void) {
  char cmd[2048];
  t_section("python consumer");
  if (!tpy_have_lib("consumer")) return;
  snprintf(cmd, sizeof cmd, "sh %s/tests/consumer/run.sh %s 2>&1", tpy_root(), tpy_root());
  tpy_run("tests/consumer/run.sh", cmd);
}
static void test_python_all(void) {
  test_python();
  test_consumer();
}
#else
static void test_python_all(void) {}
#endif
