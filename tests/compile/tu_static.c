/* Used twice in one link, each with NTK_STATIC: no symbol clash. */
#define NTK_STATIC
#define NTK_IMPLEMENTATION
#include "../../ntk.h"

#ifdef TU_MAIN
int tu_static_other(void);
int main(void) { return tu_static_other() + (ntk_simd_name()[0] ? 0 : 1); }
#else
int tu_static_other(void);
int tu_static_other(void) { return strcmp(ntk_version(), NTK_VERSION_STRING) != 0; }
#endif
