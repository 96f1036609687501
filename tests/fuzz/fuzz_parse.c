/* libFuzzer target: the text form of an architecture (make fuzz). Any bytes, as a NUL-terminated
   spec in an exactly-sized block: every call returns a status; a filling call and a sizing call
   agree; the message is NUL-terminated within err_cap; the error offset is inside the spec. */
#define NTK_IMPLEMENTATION
#include "../../ntk.h"
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);
int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size) {
  ntk_layer out[16];
  char err[48];
  size_t n1 = 0, n2 = 0, p1 = 0, p2 = 0;
  ntk_status s1, s2;
  char *spec = (char *)malloc(size + 1);
  if (!spec) return 0;
  memcpy(spec, data, size), spec[size] = 0;
  memset(err, 'Z', sizeof err);
  s1 = ntk_parse_net(spec, NULL, out, 16, &n1, &p1, err, 40);
  s2 = ntk_parse_net(spec, NULL, NULL, 0, &n2, &p2, NULL, 0);
  if (!memchr(err, 0, 40) || err[40] != 'Z') abort();
  if (s1 == NTK_OK && (s2 != NTK_OK || n1 != n2 || n1 == 0 || n1 > 16)) abort();
  if (s1 == NTK_ERR_INVALID_ARG && (s2 != NTK_OK || n2 <= 16 || n1 != n2)) abort();
  if ((s1 == NTK_ERR_BAD_LAYER || s1 == NTK_ERR_UNSUPPORTED) && (s2 != s1 || p1 != p2 || p1 > strlen(spec) || n1))
    abort();
  if (s1 != NTK_OK && s1 != NTK_ERR_INVALID_ARG && s1 != NTK_ERR_BAD_LAYER && s1 != NTK_ERR_UNSUPPORTED) abort();
  if (s1 == NTK_OK) (void)ntk_layers_check(out, n1); /* whatever it says, it must not crash */
  free(spec);
  return 0;
}
