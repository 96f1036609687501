/* The text form of an architecture (../shared/CLI.md, issue 16 item 3): ntk_parse_net and
   ntk_parse_activation against layer lists written out by hand, field by field (tpz_row below:
   a plain table, not the library's constructors), every error message with its byte offset,
   sizing and short arrays, the nesting limit, long specs, and random strings over the
   grammar's alphabet in exactly-sized heap buffers (make sanitize: no read past the NUL). */

/* one expected layer: every ntk_layer field that the parser may set */
typedef struct tpz_row {
  int kind;
  size_t width;
  double w, b;
  int param, bias;
  size_t f0, f1, s0, s1;
  int pad;
  size_t n;
  int flags;
  double eps, a, b2, c;
  int quad;
} tpz_row;
#define TPZ_D(N, W, B) {NTK_LAYER_DENSE, N, W, B, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}
#define TPZ_DX(N, W, B, P, BI) {NTK_LAYER_DENSE, N, W, B, P, BI, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}
#define TPZ_C(C, F0, F1, S0, S1, PAD, W, B) {NTK_LAYER_CONV, C, W, B, 0, 0, F0, F1, S0, S1, PAD, 0, 0, 0, 0, 0, 0, 0}
#define TPZ_CX(C, F0, F1, S0, S1, PAD, W, B, P, BI) {NTK_LAYER_CONV, C, W, B, P, BI, F0, F1, S0, S1, PAD, 0, 0, 0, 0, 0, 0, 0}
#define TPZ_POOL(K, P0, P1, S0, S1, PAD, FL) {K, 0, 0, 0, 0, 0, P0, P1, S0, S1, PAD, 0, FL, 0, 0, 0, 0, 0}
#define TPZ_K(K) {K, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}
#define TPZ_ACT(K, A, B, C, Q) {K, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, A, B, C, Q}
#define TPZ_RELU TPZ_ACT(NTK_LAYER_ABRELU, 0, 1, 0, 0)
#define TPZ_FAN(N) {NTK_LAYER_FANOUT, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, N, 0, 0, 0, 0, 0, 0}
#define TPZ_LN(FL, EPS) {NTK_LAYER_LAYER_NORM, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, FL, EPS, 0, 0, 0, 0}
#define TPZ_BR TPZ_K(NTK_LAYER_BRANCH)
#define TPZ_SUM TPZ_K(NTK_LAYER_FANIN_SUM)
#define TPZ_CAT TPZ_K(NTK_LAYER_FANIN_CONCAT)
#define TPZ_GAP TPZ_K(NTK_LAYER_GLOBAL_AVG_POOL)

/* 1 when l is exactly r (and prints the first differing field) */
static int tpz_same(const ntk_layer *l, const tpz_row *r, const char *spec, size_t i) {
  int quadrature = r->kind == NTK_LAYER_TANH || r->kind == NTK_LAYER_SOFTPLUS;
  const char *bad = NULL;
  if ((int)l->kind != r->kind) bad = "kind";
  else if (l->width != r->width) bad = "width";
  else if (l->w_std != r->w || l->b_std != r->b) bad = "w_std/b_std";
  else if ((int)l->param != r->param) bad = "param";
  else if ((int)l->bias != r->bias) bad = "bias";
  else if (l->shape[0] != r->f0 || l->shape[1] != r->f1 || l->shape[2] != 0) bad = "shape";
  else if (l->stride[0] != r->s0 || l->stride[1] != r->s1) bad = "stride";
  else if ((int)l->padding != r->pad) bad = "padding";
  else if (l->n != r->n) bad = "n";
  else if (l->flags != r->flags) bad = "flags";
  else if (l->eps != r->eps) bad = "eps";
  else if (l->a != r->a || l->b != r->b2 || fabs(l->c - r->c) > 1e-15) bad = "a/b/c";
  else if (l->quad_degree != r->quad) bad = "quad_degree";
  else if (quadrature ? !l->f || !l->df : l->f || l->df) bad = "f/df";
  else if (l->user) bad = "user";
  if (bad)
    printf("  '%s' layer %zu: %s differs (kind %d vs %d, width %zu vs %zu, shape %zux%zu vs %zux%zu, n %zu vs %zu)\n",
           spec, i, bad, (int)l->kind, r->kind, l->width, r->width, l->shape[0], l->shape[1], r->f0, r->f1, l->n, r->n);
  return bad == NULL;
}

/* parses spec and compares with rows[0..n): also a sizing call and every short cap */
static void tpz_expect(const char *spec, const ntk_parse_defaults *d, const tpz_row *rows, size_t n) {
  ntk_layer out[128];
  size_t got = 7, pos = 7, i, cap;
  char err[200];
  ntk_status st;
  int same = 1;
  st = ntk_parse_net(spec, d, out, 128, &got, &pos, err, sizeof err);
  T_CHECK(st == NTK_OK && got == n && err[0] == 0, "'%s': %s, %zu layers (expected %zu): %s", spec,
          ntk_status_string(st), got, n, err);
  if (st != NTK_OK || got != n) return;
  for (i = 0; i < n; i++) same &= tpz_same(&out[i], &rows[i], spec, i);
  T_CHECK(same, "'%s': the layers as written out by hand", spec);
  got = 0;
  T_STATUS(ntk_parse_net(spec, d, NULL, 0, &got, NULL, NULL, 0), NTK_OK);
  T_CHECK(got == n, "'%s': sizing call gives %zu, expected %zu", spec, got, n);
  for (cap = 1; cap < n; cap++) { /* short arrays: the first cap layers, nothing beyond */
    ntk_layer shortl[128];
    memset(shortl, 0xA5, sizeof shortl);
    st = ntk_parse_net(spec, d, shortl, cap, &got, NULL, err, sizeof err);
    same = st == NTK_ERR_INVALID_ARG && got == n && strstr(err, "more than cap") != NULL;
    for (i = 0; i < cap && same; i++) same &= tpz_same(&shortl[i], &rows[i], spec, i);
    for (i = cap; i < 128 && same; i++) same &= ((unsigned char *)&shortl[i])[0] == 0xA5;
    if (!same) {
      T_CHECK(0, "'%s' with cap %zu: %s, n %zu, %s", spec, cap, ntk_status_string(st), got, err);
      return;
    }
  }
  t_passed++;
}

static void tpz_error(const char *spec, ntk_status want, size_t want_pos, const char *want_msg) {
  ntk_layer out[64];
  size_t n = 7, pos = 999;
  char err[400];
  ntk_status st = ntk_parse_net(spec, NULL, out, 64, &n, &pos, err, sizeof err);
  T_CHECK(st == want && pos == want_pos && n == 0 && strcmp(err, want_msg) == 0,
          "'%s': %s at %zu: \"%s\"; expected %s at %zu: \"%s\"", spec, ntk_status_string(st), pos, err,
          ntk_status_string(want), want_pos, want_msg);
}

static void test_parse_examples(void) {
  ntk_parse_defaults d = ntk_parse_defaults_init();
  tpz_row rows[128];
  size_t k, i;
  t_section("parse: CLI.md's four example specs, written out by hand");
  d.width = 128, d.outputs = 10, d.w_std = 1.5, d.b_std = 0.1;
  /* neural-tangents' benchmark network: 21 × [Conv(1, 3×3, SAME) + ReLU], GAP, Dense(1) */
  for (k = 0, i = 0; i < 21; i++) {
    tpz_row c = TPZ_C(1, 3, 3, 0, 0, NTK_PAD_SAME, 1.5, 0.1), r = TPZ_RELU;
    rows[k++] = c, rows[k++] = r;
  }
  {
    tpz_row g = TPZ_GAP, o = TPZ_D(1, 1.5, 0.1);
    rows[k++] = g, rows[k++] = o;
  }
  tpz_expect("21*(conv(1,3x3,same) relu) gap dense(1)", &d, rows, k);
  {
    tpz_row flat = TPZ_K(NTK_LAYER_FLATTEN);
    rows[42] = flat;
    tpz_expect("21*(conv(1,3x3,same) relu) flatten dense(1)", &d, rows, k);
  }
  {
    const tpz_row myrtle[] = {
        TPZ_C(128, 3, 3, 0, 0, NTK_PAD_SAME, 1.5, 0.1), TPZ_RELU,
        TPZ_C(128, 3, 3, 0, 0, NTK_PAD_SAME, 1.5, 0.1), TPZ_RELU,
        TPZ_POOL(NTK_LAYER_AVG_POOL, 2, 0, 2, 0, NTK_PAD_VALID, 0),
        TPZ_C(128, 3, 3, 0, 0, NTK_PAD_SAME, 1.5, 0.1), TPZ_RELU,
        TPZ_POOL(NTK_LAYER_AVG_POOL, 2, 0, 2, 0, NTK_PAD_VALID, 0),
        TPZ_C(128, 3, 3, 0, 0, NTK_PAD_SAME, 1.5, 0.1), TPZ_RELU,
        TPZ_GAP, TPZ_D(10, 1.5, 0.1)};
    tpz_expect("conv(3x3,same) relu conv(3x3,same) relu avgpool(2,stride=2) conv(3x3,same) relu "
              "avgpool(2,stride=2) conv(3x3,same) relu gap dense",
              &d, myrtle, sizeof myrtle / sizeof myrtle[0]);
  }
  {
    const tpz_row block[] = {TPZ_FAN(2), TPZ_RELU, TPZ_C(128, 3, 3, 0, 0, NTK_PAD_SAME, 1.5, 0.1), TPZ_RELU,
                            TPZ_C(128, 3, 3, 0, 0, NTK_PAD_SAME, 1.5, 0.1), TPZ_BR, TPZ_SUM};
    const tpz_row first = TPZ_C(128, 3, 3, 0, 0, NTK_PAD_SAME, 1.5, 0.1), g = TPZ_GAP, o = TPZ_D(10, 1.5, 0.1);
    k = 0, rows[k++] = first;
    for (i = 0; i < 4; i++) memcpy(&rows[k], block, sizeof block), k += 7;
    rows[k++] = g, rows[k++] = o;
    tpz_expect("conv(3x3,same) 4*res(relu conv(3x3,same) relu conv(3x3,same)) gap dense", &d, rows, k);
  }
  {
    const tpz_row oned[] = {TPZ_C(32, 5, 0, 0, 0, NTK_PAD_SAME, 1.5, 0.1), TPZ_RELU, TPZ_GAP, TPZ_D(10, 1.5, 0.1)};
    tpz_expect("conv(32,5,same) relu gap dense", &d, oned, 4);
  }
}

static void test_parse_tokens(void) {
  ntk_parse_defaults d = ntk_parse_defaults_init();
  t_section("parse: every token and option");
  d.width = 64, d.outputs = 3, d.w_std = 2, d.b_std = 0.25, d.param = NTK_PARAM_STANDARD;
  {
    const tpz_row r[] = {TPZ_DX(7, 0.5, 0, NTK_PARAM_NTK, NTK_BIAS_NONE), TPZ_DX(64, 2, 0, NTK_PARAM_STANDARD, NTK_BIAS_ALWAYS),
                        TPZ_DX(64, 2, 0.5, NTK_PARAM_STANDARD, NTK_BIAS_AUTO), TPZ_DX(64, 2, 0.25, NTK_PARAM_NTK, 0),
                        TPZ_DX(5, 1e-3, 1.5e2, NTK_PARAM_STANDARD, 0), TPZ_DX(3, 2, 0.25, NTK_PARAM_STANDARD, 0)};
    tpz_expect("dense(7,w=0.5,b=none,param=ntk) dense(b=0) dense(b=.5) dense(param=ntk) dense( 5 , w=1e-3, b=+1.5E2 ) dense",
              &d, r, 6);
  }
  {
    const tpz_row r[] = {TPZ_CX(4, 1, 5, 2, 0, NTK_PAD_CIRCULAR, 0.5, 0, NTK_PARAM_NTK, NTK_BIAS_NONE),
                        TPZ_CX(64, 3, 0, 2, 1, NTK_PAD_VALID, 2, 0.25, NTK_PARAM_STANDARD, 0),
                        TPZ_CX(8, 2, 2, 0, 0, NTK_PAD_SAME, 2, 0, NTK_PARAM_STANDARD, NTK_BIAS_ALWAYS),
                        TPZ_CX(64, 7, 1, 3, 3, NTK_PAD_SAME, 2, 0.25, NTK_PARAM_STANDARD, 0)};
    tpz_expect("conv(4,1x5,s=2,pad=circular,w=0.5,b=none,param=ntk) conv(3,valid,stride=2x1) conv(8,2x2,same,b=0) "
              "conv(7x1,pad=same,s=3x3)",
              &d, r, 4);
  }
  {
    const tpz_row r[] = {TPZ_POOL(NTK_LAYER_SUM_POOL, 3, 0, 1, 0, NTK_PAD_SAME, 0),
                        TPZ_POOL(NTK_LAYER_AVG_POOL, 2, 3, 2, 0, NTK_PAD_VALID, NTK_POOL_NORMALIZE_EDGES),
                        TPZ_POOL(NTK_LAYER_AVG_POOL, 3, 3, 1, 2, NTK_PAD_CIRCULAR, NTK_POOL_NORMALIZE_EDGES),
                        TPZ_POOL(NTK_LAYER_SUM_POOL, 4, 0, 4, 0, NTK_PAD_SAME, 0)};
    tpz_expect("sumpool(3,same,stride=1) avgpool(2x3,edges,s=2) avgpool(3x3,circular,edges,stride=1x2) sumpool(4,s=4,pad=same)",
              &d, r, 4);
  }
  {
    const tpz_row r[] = {TPZ_GAP, TPZ_K(NTK_LAYER_GLOBAL_SUM_POOL), TPZ_K(NTK_LAYER_FLATTEN), TPZ_K(NTK_LAYER_IDENTITY),
                        TPZ_LN(0, 0), TPZ_LN(NTK_AXIS_H | NTK_AXIS_W | NTK_AXIS_C, 1e-5),
                        TPZ_LN(NTK_AXIS_H | NTK_AXIS_W | NTK_AXIS_C, 0), TPZ_LN(NTK_AXIS_W | NTK_AXIS_C, 0),
                        TPZ_LN(NTK_AXIS_H | NTK_AXIS_C, 0.5), TPZ_LN(NTK_AXIS_C, 0)};
    tpz_expect("gap gsp flatten id layernorm layernorm(axis=hwc,eps=1e-5) layernorm(axis=all) layernorm(axis=wc) "
              "layernorm(eps=0.5,axis=hc) layernorm(axis=c)",
              &d, r, 10);
  }
  {
    /* every activation, verbatim; quad_degree from the defaults; act = the defaults' activation */
    const tpz_row r[] = {
        TPZ_ACT(NTK_LAYER_ABRELU, 0, 1, 0, 40), TPZ_ACT(NTK_LAYER_ABRELU, 0.1, 1, 0, 40),
        TPZ_ACT(NTK_LAYER_ABRELU, -0.5, 2, 0, 40), TPZ_ACT(NTK_LAYER_ABRELU, -1, 1, 0, 40),
        TPZ_ACT(NTK_LAYER_ERF, 1, 1, 0, 40), TPZ_ACT(NTK_LAYER_ERF, 2, 0.5, -1, 40), TPZ_ACT(NTK_LAYER_GELU, 0, 0, 0, 40),
        TPZ_ACT(NTK_LAYER_SIN, 1, 1, 0, 40), TPZ_ACT(NTK_LAYER_SIN, 1, 2, 3, 40),
        TPZ_ACT(NTK_LAYER_SIN, 1, 1, 1.5707963267948966, 40), TPZ_ACT(NTK_LAYER_SIGN, 0, 0, 0, 40),
        TPZ_ACT(NTK_LAYER_RBF, 0.5, 0, 0, 40), TPZ_ACT(NTK_LAYER_EXP, 1, -2, 0, 40), TPZ_ACT(NTK_LAYER_TANH, 0, 0, 0, 40),
        TPZ_ACT(NTK_LAYER_SOFTPLUS, 0, 0, 0, 40), TPZ_ACT(NTK_LAYER_IDENTITY, 0, 0, 0, 40),
        TPZ_ACT(NTK_LAYER_ERF, 3, 1, 0, 0)};
    d.quad_degree = 40, d.act = ntk_erf_scaled(3, 1, 0);
    tpz_expect("relu leaky_relu:0.1 abrelu:-0.5,2 abs erf erf:2,0.5,-1 gelu sin sin:1,2,3 cos sign rbf:0.5 exp:1,-2 "
              "tanh softplus identity act",
              &d, r, 17);
    d.quad_degree = 0;
  }
  {
    /* fans: FANOUT(n) branches BRANCH … FANIN; empty branches; res; nesting; repetition */
    const tpz_row r[] = {TPZ_FAN(2), TPZ_D(64, 2, 0.25), TPZ_BR, TPZ_CAT,
                        TPZ_FAN(3), TPZ_RELU, TPZ_BR, TPZ_ACT(NTK_LAYER_GELU, 0, 0, 0, 0), TPZ_BR, TPZ_K(NTK_LAYER_IDENTITY), TPZ_SUM,
                        TPZ_FAN(2), TPZ_BR, TPZ_SUM,
                        TPZ_FAN(3), TPZ_FAN(2), TPZ_RELU, TPZ_BR, TPZ_SUM, TPZ_BR, TPZ_BR, TPZ_RELU, TPZ_SUM,
                        TPZ_FAN(1), TPZ_RELU, TPZ_RELU, TPZ_SUM};
    d.param = NTK_PARAM_NTK;
    tpz_expect("concat(dense|) sum(relu|gelu|id) res() sum(res(relu)||relu) sum(2*relu)", &d, r, 27);
  }
  {
    /* the last layer of the whole spec takes --outputs, wherever it comes from */
    const tpz_row r1[] = {TPZ_D(64, 2, 0.25), TPZ_D(64, 2, 0.25), TPZ_D(3, 2, 0.25)};
    const tpz_row r2[] = {TPZ_RELU, TPZ_D(64, 2, 0.25), TPZ_RELU, TPZ_RELU, TPZ_D(64, 2, 0.25), TPZ_RELU,
                         TPZ_RELU, TPZ_D(64, 2, 0.25), TPZ_RELU, TPZ_RELU, TPZ_D(64, 2, 0.25), TPZ_RELU, TPZ_D(3, 2, 0.25)};
    const tpz_row r3[] = {TPZ_D(3, 2, 0.25)};
    const tpz_row r4[] = {TPZ_FAN(1), TPZ_D(64, 2, 0.25), TPZ_SUM};
    const tpz_row r5[] = {TPZ_D(64, 2, 0.25), TPZ_D(9, 2, 0.25)};
    tpz_expect("3*dense", &d, r1, 3);
    tpz_expect("2*(2*(relu dense relu)) dense", &d, r2, 13);
    tpz_expect("  dense\t\n 3*() ( ) ", &d, r3, 1);
    tpz_expect("sum(dense)", &d, r4, 3);
    tpz_expect("dense dense(9)", &d, r5, 2);
  }
  {
    /* NULL defaults: width 0, outputs 1, w 1, b 0, ntk, relu */
    const tpz_row r[] = {TPZ_D(0, 1, 0), TPZ_RELU, TPZ_D(1, 1, 0)};
    tpz_expect("dense act dense", NULL, r, 3);
  }
}

static void test_parse_errors(void) {
  t_section("parse: every error message, at the offending byte");
  tpz_error("conv(16,3x3,smae)", NTK_ERR_BAD_LAYER, 12, "at 'conv(16,3x3,smae)': unknown padding 'smae'");
  tpz_error("", NTK_ERR_BAD_LAYER, 0, "at the end: no layers");
  tpz_error(" () ", NTK_ERR_BAD_LAYER, 4, "at the end: no layers");
  tpz_error("relu)", NTK_ERR_BAD_LAYER, 4, "at ')': unmatched ')'");
  tpz_error("relu|gelu", NTK_ERR_BAD_LAYER, 4, "at '|': '|' separates the branches of sum(...) or concat(...)");
  tpz_error("(relu|gelu)", NTK_ERR_BAD_LAYER, 5, "at '|': '|' separates the branches of sum(...) or concat(...)");
  tpz_error("res(relu|gelu)", NTK_ERR_BAD_LAYER, 8,
           "at 'res(relu|gelu)': res(...) has one branch (the other is the identity): use sum(a|b)");
  tpz_error("relu (gelu", NTK_ERR_BAD_LAYER, 5, "at '(gelu': '(' is never closed");
  tpz_error("sum(relu|", NTK_ERR_BAD_LAYER, 3, "at 'sum(relu|': '(' is never closed");
  tpz_error("conv(3", NTK_ERR_BAD_LAYER, 4, "at 'conv(3': '(' is never closed");
  tpz_error("conv(3,(1))", NTK_ERR_BAD_LAYER, 7, "at 'conv(3,(': arguments cannot hold '('");
  tpz_error("3", NTK_ERR_BAD_LAYER, 0, "at '3': a layer cannot start with a digit (a repetition is N*layer)");
  tpz_error("dense 3x3", NTK_ERR_BAD_LAYER, 6, "at '3x3': a layer cannot start with a digit (a repetition is N*layer)");
  tpz_error("3*", NTK_ERR_BAD_LAYER, 2, "at '3*': expected a layer or (...) after '*'");
  tpz_error("2*3*relu", NTK_ERR_BAD_LAYER, 2, "at '2*3*relu': expected a layer or (...) after '*'");
  tpz_error("0*relu", NTK_ERR_BAD_LAYER, 0, "at '0*': repetition count '0' is not a positive integer");
  tpz_error("99999999999999999999999*relu", NTK_ERR_BAD_LAYER, 0,
           "at '99999999999999999999999*': repetition count '99999999999999999999999' is too large");
  tpz_error("relu,dense", NTK_ERR_BAD_LAYER, 4, "at 'relu,': layers are separated by spaces");
  tpz_error("gap(relu)", NTK_ERR_BAD_LAYER, 3, "at 'gap(relu)': 'gap' takes no arguments");
  tpz_error("relu(1)", NTK_ERR_BAD_LAYER, 4,
           "at 'relu(1)': 'relu' takes no arguments (an activation's parameters are written NAME:A,B)");
  tpz_error("+relu", NTK_ERR_BAD_LAYER, 0, "at '+relu': expected a layer, got '+'");
  tpz_error("Dense", NTK_ERR_BAD_LAYER, 0,
           "at 'Dense': unknown layer 'Dense' (dense conv avgpool sumpool gap gsp flatten layernorm id act sum concat "
           "res, or an activation: relu, erf, tanh, ...)");
  tpz_error("sum", NTK_ERR_BAD_LAYER, 0,
           "at 'sum': unknown layer 'sum' (dense conv avgpool sumpool gap gsp flatten layernorm id act sum concat "
           "res, or an activation: relu, erf, tanh, ...)");
  tpz_error("dense \x01", NTK_ERR_BAD_LAYER, 6, "at '\\x01': expected a layer, got '\\x01'");
  tpz_error("attn(8,heads=2)", NTK_ERR_UNSUPPORTED, 0, "at 'attn(8,heads=2)': global self-attention (attn) is not supported yet");
  /* arguments */
  tpz_error("conv(3,)", NTK_ERR_BAD_LAYER, 7, "at 'conv(3,)': empty argument");
  tpz_error("conv(,3)", NTK_ERR_BAD_LAYER, 5, "at 'conv(,3)': empty argument");
  tpz_error("conv(w=)", NTK_ERR_BAD_LAYER, 5, "at 'conv(w=)': 'w=' is not KEY=VALUE");
  tpz_error("conv(=2)", NTK_ERR_BAD_LAYER, 5, "at 'conv(=2)': '=2' is not KEY=VALUE");
  tpz_error("conv(same)", NTK_ERR_BAD_LAYER, 0, "at 'conv(same)': conv needs a filter: conv(C,F) or conv(F)");
  tpz_error("conv(3x,same)", NTK_ERR_BAD_LAYER, 5, "at 'conv(3x,same)': '3x' is not a size (3, or 3x5: positive integers)");
  tpz_error("conv(3x0)", NTK_ERR_BAD_LAYER, 5, "at 'conv(3x0)': '3x0' is not a size (3, or 3x5: positive integers)");
  tpz_error("conv(3x99999999999999999999)", NTK_ERR_BAD_LAYER, 5,
           "at 'conv(3x99999999999999999999)': '3x99999999999999999999' is too large for a size");
  tpz_error("conv(3x3,16)", NTK_ERR_BAD_LAYER, 5, "at 'conv(3x3,16)': '3x3' is not a positive integer");
  tpz_error("conv(1,2,3)", NTK_ERR_BAD_LAYER, 9, "at 'conv(1,2,3)': unexpected size '3' (conv(C,F) or conv(F))");
  tpz_error("conv(3,same,valid)", NTK_ERR_BAD_LAYER, 12, "at 'conv(3,same,valid)': padding given twice ('valid')");
  tpz_error("conv(3,same,pad=valid)", NTK_ERR_BAD_LAYER, 12, "at 'conv(3,same,pad=valid)': padding given twice ('pad=valid')");
  tpz_error("conv(3,edges)", NTK_ERR_BAD_LAYER, 7, "at 'conv(3,edges)': unknown padding 'edges'");
  tpz_error("conv(3,s=2,same)", NTK_ERR_BAD_LAYER, 11, "at 'conv(3,s=2,same)': positional argument 'same' after key=value arguments");
  tpz_error("conv(3,s=2,stride=2)", NTK_ERR_BAD_LAYER, 11, "at 'conv(3,s=2,stride=2)': 'stride' given twice");
  tpz_error("conv(3,s=0)", NTK_ERR_BAD_LAYER, 9, "at 'conv(3,s=0)': '0' is not a positive integer");
  tpz_error("conv(3,pad=smae)", NTK_ERR_BAD_LAYER, 11, "at 'conv(3,pad=smae)': unknown padding 'smae'");
  tpz_error("conv(3,eps=1)", NTK_ERR_BAD_LAYER, 7, "at 'conv(3,eps=1)': unknown option 'eps' for conv (stride= s= pad= w= b= param=)");
  tpz_error("dense(0)", NTK_ERR_BAD_LAYER, 6, "at 'dense(0)': '0' is not a positive integer");
  tpz_error("dense(-3)", NTK_ERR_BAD_LAYER, 6, "at 'dense(-3)': '-3' is not a positive integer");
  tpz_error("dense(18446744073709551616000)", NTK_ERR_BAD_LAYER, 6,
           "at 'dense(18446744073709551616000)': '18446744073709551616000' is too large for a size");
  tpz_error("dense(3,4)", NTK_ERR_BAD_LAYER, 8, "at 'dense(3,4)': unexpected size '4' (dense(N))");
  tpz_error("dense(same)", NTK_ERR_BAD_LAYER, 6, "at 'dense(same)': unexpected 'same' (dense(N) with w=, b=, param=)");
  tpz_error("dense(w=2,w=3)", NTK_ERR_BAD_LAYER, 10, "at 'dense(w=2,w=3)': 'w' given twice");
  tpz_error("dense(w=0)", NTK_ERR_BAD_LAYER, 8, "at 'dense(w=0)': w must be > 0, got '0'");
  tpz_error("dense(w=-1)", NTK_ERR_BAD_LAYER, 8, "at 'dense(w=-1)': w must be > 0, got '-1'");
  tpz_error("dense(w=inf)", NTK_ERR_BAD_LAYER, 8, "at 'dense(w=inf)': 'inf' is not a finite decimal number");
  tpz_error("dense(w=nan)", NTK_ERR_BAD_LAYER, 8, "at 'dense(w=nan)': 'nan' is not a finite decimal number");
  tpz_error("dense(w=0x10)", NTK_ERR_BAD_LAYER, 8, "at 'dense(w=0x10)': '0x10' is not a finite decimal number");
  tpz_error("dense(w=1e999)", NTK_ERR_BAD_LAYER, 8, "at 'dense(w=1e999)': '1e999' is out of the range of a double");
  tpz_error("dense(b=-0.1)", NTK_ERR_BAD_LAYER, 8, "at 'dense(b=-0.1)': b must be >= 0 (or none), got '-0.1'");
  tpz_error("dense(b=None)", NTK_ERR_BAD_LAYER, 8, "at 'dense(b=None)': 'None' is not a finite decimal number");
  tpz_error("dense(param=ntK)", NTK_ERR_BAD_LAYER, 12, "at 'dense(param=ntK)': unknown parameterisation 'ntK' (ntk or standard)");
  tpz_error("dense(stride=2)", NTK_ERR_BAD_LAYER, 6, "at 'dense(stride=2)': unknown option 'stride' for dense (w=, b=, param=)");
  tpz_error("avgpool(2)", NTK_ERR_BAD_LAYER, 0,
           "at 'avgpool(2)': 'avgpool' needs stride= (neural-tangents' default, the window, is not assumed)");
  tpz_error("sumpool(s=2)", NTK_ERR_BAD_LAYER, 0, "at 'sumpool(s=2)': 'sumpool' needs a window: POOL(P,stride=S)");
  tpz_error("avgpool(2,3,s=1)", NTK_ERR_BAD_LAYER, 10, "at 'avgpool(2,3,s=1)': unexpected size '3' (one window: avgpool(P,stride=S))");
  tpz_error("avgpool(2,edges,edges,s=1)", NTK_ERR_BAD_LAYER, 16, "at 'avgpool(2,edges,edges,s=1)': 'edges' given twice");
  tpz_error("sumpool(2,edges,s=1)", NTK_ERR_BAD_LAYER, 10, "at 'sumpool(2,edges,s=1)': edges (normalize_edges) is an avgpool option");
  tpz_error("avgpool(2,s=1,w=2)", NTK_ERR_BAD_LAYER, 14, "at 'avgpool(2,s=1,w=2)': unknown option 'w' for a pool (stride= s= pad=)");
  tpz_error("layernorm(axis=hw)", NTK_ERR_BAD_LAYER, 15, "at 'layernorm(axis=hw)': axis 'hw' must include c (channels)");
  tpz_error("layernorm(axis=cc)", NTK_ERR_BAD_LAYER, 16, "at 'layernorm(axis=cc)': axis 'cc' repeats a letter");
  tpz_error("layernorm(axis=hxc)", NTK_ERR_BAD_LAYER, 16, "at 'layernorm(axis=hxc)': axis 'hxc': letters h, w, c (including c), or all");
  tpz_error("layernorm(eps=0)", NTK_ERR_BAD_LAYER, 14, "at 'layernorm(eps=0)': eps must be > 0, got '0'");
  tpz_error("layernorm(3)", NTK_ERR_BAD_LAYER, 10, "at 'layernorm(3)': unexpected size '3' (layernorm(axis=..., eps=...))");
  tpz_error("layernorm(c)", NTK_ERR_BAD_LAYER, 10, "at 'layernorm(c)': unexpected 'c' (layernorm takes axis= and eps=)");
  tpz_error("layernorm(w=1)", NTK_ERR_BAD_LAYER, 10, "at 'layernorm(w=1)': unknown option 'w' for layernorm (axis=, eps=)");
  tpz_error("dense(1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17)", NTK_ERR_BAD_LAYER, 45,
           "at 'dense(1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17)': more than 16 arguments");
  /* activations inside a spec: the activation parser's reasons, at the offending number */
  tpz_error("leaky_relu", NTK_ERR_BAD_LAYER, 10, "at 'leaky_relu': expected leaky_relu:A, got 0 parameters");
  tpz_error("relu erf:1,2", NTK_ERR_BAD_LAYER, 8, "at 'erf:1,2': expected erf or erf:A,B,C, got 2 parameters");
  tpz_error("erf:1,,3", NTK_ERR_BAD_LAYER, 6, "at 'erf:1,,3': '' is not a finite decimal number");
  tpz_error("leaky_relu:1e999", NTK_ERR_BAD_LAYER, 11, "at 'leaky_relu:1e999': '1e999' is out of the range of a double");
  tpz_error("rbf:0", NTK_ERR_BAD_LAYER, 4, "at 'rbf:0': rbf:G needs G > 0");
  tpz_error("exp:1,2,3,4,5,6,7,8,9", NTK_ERR_BAD_LAYER, 20, "at 'exp:1,2,3,4,5,6,7,8,9': too many parameters (exp:A,B)");
  tpz_error("foo:1", NTK_ERR_BAD_LAYER, 0,
           "at 'foo:1': unknown activation 'foo' (identity, relu, leaky_relu:A, abrelu:A,B, abs, erf, erf:A,B,C, gelu, "
           "sin, sin:A,B,C, cos, sign, rbf:G, exp:A,B, tanh, softplus)");
  tpz_error("(leaky_relu:0.1x)", NTK_ERR_BAD_LAYER, 12, "at 'leaky_relu:0.1x': '0.1x' is not a finite decimal number");
  {
    /* a long token is quoted to 60 bytes and '...' */
    char spec[200];
    memset(spec, 'a', 100), spec[100] = 0;
    tpz_error(spec, NTK_ERR_BAD_LAYER, 0,
             "at 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa...': unknown layer "
             "'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa...' (dense conv avgpool sumpool gap gsp "
             "flatten layernorm id act sum concat res, or an activation: relu, erf, tanh, ...)");
  }
}

static void test_parse_limits(void) {
  ntk_layer out[4];
  size_t n, pos, i, len;
  char err[200], *spec;
  ntk_status st;
  t_section("parse: arguments, sizing, nesting limit, long specs, truncated messages");
  T_STATUS(ntk_parse_net(NULL, NULL, out, 4, &n, &pos, err, sizeof err), NTK_ERR_INVALID_ARG);
  T_STATUS(ntk_parse_net("relu", NULL, out, 4, NULL, &pos, err, sizeof err), NTK_ERR_INVALID_ARG);
  T_STATUS(ntk_parse_net("relu", NULL, NULL, 4, &n, &pos, err, sizeof err), NTK_ERR_INVALID_ARG);
  /* a huge repetition is counted, not expanded; a product beyond size_t is an error */
  T_STATUS(ntk_parse_net("1000000000*(1000*relu) dense", NULL, NULL, 0, &n, NULL, NULL, 0), NTK_OK);
  T_CHECK(n == 1000000000000ull + 1 || sizeof(size_t) < 8, "1e9 * 1e3 + 1 layers counted: %zu", n);
  st = ntk_parse_net("100000000000*(100000000000*(1000000*relu))", NULL, out, 4, &n, &pos, err, sizeof err);
  T_CHECK(st == NTK_ERR_BAD_LAYER && pos == 0 &&
              !strcmp(err, "at '100000000000*(100000000000*(1000000*relu))': more layers than a size_t counts"),
          "size_t overflow of the layer count: %s at %zu: %s", ntk_status_string(st), pos, err);
  /* nesting: NTK_PARSE_MAX_DEPTH levels of parentheses (and fans) parse, one more is an error */
  spec = (char *)malloc(4 * 200000 + 16);
  if (!spec) return;
  for (len = 0, i = 0; i < NTK_PARSE_MAX_DEPTH; i++) spec[len++] = i % 2 ? '(' : 'r', spec[len++] = i % 2 ? 0 : 'e', spec[len++] = i % 2 ? 0 : 's', spec[len++] = i % 2 ? 0 : '(';
  {
    size_t k, m = 0; /* squeeze out the NULs: "res((res((…" */
    for (k = 0; k < len; k++)
      if (spec[k]) spec[m++] = spec[k];
    len = m;
  }
  memcpy(spec + len, "relu", 4), len += 4;
  for (i = 0; i < NTK_PARSE_MAX_DEPTH; i++) spec[len++] = ')';
  spec[len] = 0;
  st = ntk_parse_net(spec, NULL, NULL, 0, &n, &pos, err, sizeof err);
  T_CHECK(st == NTK_OK && n == 1 + 3 * (NTK_PARSE_MAX_DEPTH / 2), "%d nested levels: %s, %zu layers: %s",
          NTK_PARSE_MAX_DEPTH, ntk_status_string(st), n, err);
  memmove(spec + 1, spec, len + 1), spec[0] = '(';
  spec[len + 1] = ')', spec[len + 2] = 0;
  st = ntk_parse_net(spec, NULL, NULL, 0, &n, &pos, err, sizeof err);
  T_CHECK(st == NTK_ERR_BAD_LAYER && pos == 5 * (NTK_PARSE_MAX_DEPTH / 2) &&
              strstr(err, "nested deeper than NTK_PARSE_MAX_DEPTH (64) levels") != NULL,
          "%d nested levels: %s at %zu: %s", NTK_PARSE_MAX_DEPTH + 1, ntk_status_string(st), pos, err);
  /* 100000 levels of '(' (never closed): an error at the limit, no stack overflow */
  memset(spec, '(', 100000), spec[100000] = 0;
  st = ntk_parse_net(spec, NULL, NULL, 0, &n, &pos, err, sizeof err);
  T_CHECK(st == NTK_ERR_BAD_LAYER && pos == NTK_PARSE_MAX_DEPTH, "100000 '(': %s at %zu", ntk_status_string(st), pos);
  /* a long flat spec: 200000 terms */
  for (len = 0, i = 0; i < 200000; i++) memcpy(spec + len, "id ", 3), len += 3;
  memcpy(spec + len, "gap", 4);
  st = ntk_parse_net(spec, NULL, NULL, 0, &n, &pos, err, sizeof err);
  T_CHECK(st == NTK_OK && n == 200001, "200001 terms: %s, %zu", ntk_status_string(st), n);
  spec[len + 1] = 'x'; /* "gxp": the error offset is the byte far into the spec */
  st = ntk_parse_net(spec, NULL, NULL, 0, &n, &pos, err, sizeof err);
  T_CHECK(st == NTK_ERR_BAD_LAYER && pos == len && strncmp(err, "at 'gxp': unknown layer 'gxp'", 29) == 0,
          "error at byte %zu: %s at %zu: %s", len, ntk_status_string(st), pos, err);
  free(spec);
  /* messages truncate to err_cap, NUL-terminated, never beyond */
  {
    char small[12];
    memset(small, 'Z', sizeof small);
    st = ntk_parse_net("conv(16,3x3,smae)", NULL, out, 4, &n, &pos, small, 8);
    T_CHECK(st == NTK_ERR_BAD_LAYER && !strcmp(small, "at 'con") && small[8] == 'Z', "truncated message '%.8s'", small);
    st = ntk_parse_net("conv(16,3x3,smae)", NULL, out, 4, &n, &pos, small, 1);
    T_CHECK(st == NTK_ERR_BAD_LAYER && small[0] == 0 && small[1] == 't', "err_cap 1: empty");
    T_STATUS(ntk_parse_net("conv(16,3x3,smae)", NULL, out, 4, &n, NULL, NULL, 0), NTK_ERR_BAD_LAYER);
  }
}

static void test_parse_activation_api(void) {
  ntk_layer l;
  size_t pos = 9;
  char err[300];
  t_section("parse: ntk_parse_activation (the --act grammar)");
  T_STATUS(ntk_parse_activation("leaky_relu:0.25,junk", 15, &l, &pos, err, sizeof err), NTK_OK);
  T_CHECK(l.kind == NTK_LAYER_ABRELU && l.a == 0.25 && l.b == 1 && l.quad_degree == 0, "leaky_relu:0.25 (len 15)");
  T_STATUS(ntk_parse_activation("abrelu:1,2", 10, &l, &pos, err, sizeof err), NTK_OK);
  T_CHECK(l.kind == NTK_LAYER_ABRELU && l.a == 1 && l.b == 2, "abrelu:1,2");
  T_STATUS(ntk_parse_activation("abrelu:1", 8, &l, &pos, err, sizeof err), NTK_ERR_BAD_LAYER);
  T_CHECK(pos == 6 && !strcmp(err, "expected abrelu:A,B, got 1 parameter"), "abrelu:1: %zu %s", pos, err);
  T_STATUS(ntk_parse_activation("relu:", 5, &l, &pos, err, sizeof err), NTK_ERR_BAD_LAYER);
  T_CHECK(pos == 5 && !strcmp(err, "'' is not a finite decimal number"), "relu: -> %zu %s", pos, err);
  T_STATUS(ntk_parse_activation("gelu:1", 6, &l, &pos, err, sizeof err), NTK_ERR_BAD_LAYER);
  T_CHECK(pos == 4 && !strcmp(err, "expected gelu, got 1 parameter"), "gelu:1 -> %zu %s", pos, err);
  T_STATUS(ntk_parse_activation("", 0, &l, &pos, err, sizeof err), NTK_ERR_BAD_LAYER);
  T_CHECK(pos == 0 && !strncmp(err, "unknown activation '' (identity, relu,", 38), "'' -> %s", err);
  T_STATUS(ntk_parse_activation(NULL, 0, &l, &pos, err, sizeof err), NTK_ERR_INVALID_ARG);
}

/* random strings over the grammar's alphabet, each in a heap block of exactly its length + 1
   (ASan: a read past the NUL is caught); invariants on every result */
static void test_parse_random(void) {
  static const char *const pieces[] = {"dense", "conv", "avgpool", "sumpool", "gap", "res", "sum", "concat",
                                       "relu", "erf:", "leaky_relu:", "layernorm", "axis=", "stride=", "s=",
                                       "pad=", "same", "edges", "b=", "none", "w=", "param=", "3x3", "2", "0",
                                       "1e5", "-", ".", "(", ")", "|", ",", "*", " ", "x", "=", ":", "\t", "\x80", "\x01"};
  size_t it, bad = 0, ok = 0;
  t_section("parse: 20000 random specs (invariants; run under make sanitize)");
  for (it = 0; it < 20000; it++) {
    char buf[256], err[64], *spec;
    ntk_layer out[8];
    size_t len = 0, k, npieces = 1 + (size_t)((t_uniform() + 1) * 10), n1 = 0, n2 = 0, pos = 0, pos2 = 0;
    ntk_status s1, s2;
    for (k = 0; k < npieces; k++) {
      const char *p = pieces[(size_t)((t_uniform() + 1) * 0.5 * (sizeof pieces / sizeof pieces[0])) % (sizeof pieces / sizeof pieces[0])];
      size_t pl = strlen(p);
      if (len + pl >= sizeof buf) break;
      memcpy(buf + len, p, pl), len += pl;
    }
    spec = (char *)malloc(len + 1);
    if (!spec) return;
    memcpy(spec, buf, len), spec[len] = 0;
    memset(err, 'Z', sizeof err);
    s1 = ntk_parse_net(spec, NULL, out, 8, &n1, &pos, err, 40);
    s2 = ntk_parse_net(spec, NULL, NULL, 0, &n2, &pos2, NULL, 0);
    if (!((s1 == NTK_OK && n1 >= 1 && n1 <= 8 && err[0] == 0) ||
          (s1 == NTK_ERR_INVALID_ARG && n1 > 8 && s2 == NTK_OK) ||
          ((s1 == NTK_ERR_BAD_LAYER || s1 == NTK_ERR_UNSUPPORTED) && n1 == 0 && pos <= len && s2 == s1 && pos2 == pos &&
           !strncmp(err, "at ", 3))) ||
        memchr(err, 0, 40) == NULL || err[40] != 'Z' || (s1 != NTK_ERR_INVALID_ARG && s1 != s2) || (s2 == NTK_OK && n2 != n1))
      bad++, printf("  spec '%s': %s n %zu pos %zu / sizing %s n %zu\n", spec, ntk_status_string(s1), n1, pos,
                    ntk_status_string(s2), n2);
    ok += s1 == NTK_OK;
    free(spec);
  }
  T_CHECK(bad == 0, "random specs: %zu broke an invariant (%zu parsed)", bad, ok);
  printf("  %zu of 20000 random specs parsed, the rest were named errors\n", ok);
}

static void test_parse_all(void) {
  test_parse_examples();
  test_parse_tokens();
  test_parse_errors();
  test_parse_limits();
  test_parse_activation_api();
  test_parse_random();
}
