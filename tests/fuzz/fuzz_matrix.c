/* libFuzzer target: the CLI's matrix and parameter-file parser (make fuzz). Any input must give
   either a matrix or an error message, never a crash, leak or undefined behaviour. */
#define NTK_CLI_NO_MAIN
#include "../../examples/ntk_cli.c"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);
int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size) {
  char *text, err[512];
  matrix m;
  if (size == 0) return 0;
  text = (char *)malloc(size);
  if (!text) return 0;
  memcpy(text, data + 1, size - 1);
  text[size - 1] = 0;
  if (parse_matrix_text(text, size - 1, "fuzz", data[0] & 1, &m, err, sizeof err) == 0) {
    size_t i;
    volatile double sink = 0;
    for (i = 0; i < m.rows * m.cols; i++) sink += m.v[i]; /* every value is readable */
    free(m.v);
  }
  free(text);
  return 0;
}
