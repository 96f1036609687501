/* svg.h — a tiny line/scatter plot writer for the demo (no plotting dependency).
   svg_plot p; svg_begin(&p, "file.svg", "title", "x label", "y label", logx, logy);
   svg_series(&p, x, y, n, "label", style); ... svg_end(&p);
   Axis ranges come from the data of all series (collected first, drawn at svg_end). */
#ifndef SVG_H
#define SVG_H
#include <math.h>
#include <stdio.h>
#include <string.h>

enum { SVG_LINE = 1, SVG_DOTS = 2, SVG_DASH = 4 };
#define SVG_MAX_SERIES 16
#define SVG_MAX_POINTS 512

typedef struct {
  const char *path, *title, *xlabel, *ylabel;
  int logx, logy, ns;
  struct {
    double x[SVG_MAX_POINTS], y[SVG_MAX_POINTS];
    int n, style;
    char label[96];
  } s[SVG_MAX_SERIES];
} svg_plot;

static const char *svg_colors[] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f"};

static void svg_begin(svg_plot *p, const char *path, const char *title, const char *xlabel,
                      const char *ylabel, int logx, int logy) {
  memset(p, 0, sizeof *p);
  p->path = path, p->title = title, p->xlabel = xlabel, p->ylabel = ylabel;
  p->logx = logx, p->logy = logy;
}

/* color: index into the palette (series sharing a colour share a meaning) */
static void svg_series(svg_plot *p, const double *x, const double *y, int n, const char *label,
                       int style, int color) {
  int i;
  if (p->ns == SVG_MAX_SERIES) return;
  if (n > SVG_MAX_POINTS) n = SVG_MAX_POINTS;
  for (i = 0; i < n; i++) p->s[p->ns].x[i] = x[i], p->s[p->ns].y[i] = y[i];
  p->s[p->ns].n = n;
  p->s[p->ns].style = style | (color << 8);
  snprintf(p->s[p->ns].label, sizeof p->s[p->ns].label, "%s", label ? label : "");
  p->ns++;
}

static double svg_tr(double v, int lg) { return lg ? log10(v) : v; }

static void svg_esc(FILE *f, const char *t) {
  for (; *t; t++) {
    if (*t == '<') fputs("&lt;", f);
    else if (*t == '>') fputs("&gt;", f);
    else if (*t == '&') fputs("&amp;", f);
    else fputc(*t, f);
  }
}

static int svg_end(svg_plot *p) {
  const double W = 700, H = 440, L = 78, R = 240, T = 46, B = 58;
  double x0 = INFINITY, x1 = -INFINITY, y0 = INFINITY, y1 = -INFINITY, t;
  int i, j, nl = 0;
  FILE *f = fopen(p->path, "w");
  if (!f) return 1;
  for (i = 0; i < p->ns; i++)
    for (j = 0; j < p->s[i].n; j++) {
      double xv = svg_tr(p->s[i].x[j], p->logx), yv = svg_tr(p->s[i].y[j], p->logy);
      if (!isfinite(xv) || !isfinite(yv)) continue;
      if (xv < x0) x0 = xv;
      if (xv > x1) x1 = xv;
      if (yv < y0) y0 = yv;
      if (yv > y1) y1 = yv;
    }
  if (!(x1 > x0)) x1 = x0 + 1;
  if (!(y1 > y0)) y1 = y0 + 1;
  t = 0.05 * (y1 - y0), y0 -= t, y1 += t;
  t = 0.03 * (x1 - x0), x0 -= t, x1 += t;
#define SX(v) (L + (svg_tr(v, p->logx) - x0) / (x1 - x0) * (W - L - R))
#define SY(v) (H - B - (svg_tr(v, p->logy) - y0) / (y1 - y0) * (H - T - B))
  fprintf(f, "<svg xmlns='http://www.w3.org/2000/svg' width='%.0f' height='%.0f' font-family='sans-serif' font-size='12'>\n", W, H);
  fprintf(f, "<rect width='100%%' height='100%%' fill='white'/>\n");
  fprintf(f, "<text x='%.0f' y='24' font-size='14' font-weight='bold'>", L);
  svg_esc(f, p->title);
  fprintf(f, "</text>\n<rect x='%.0f' y='%.0f' width='%.0f' height='%.0f' fill='none' stroke='black'/>\n", L, T, W - L - R, H - T - B);
  /* ticks: decades on log axes, 5 steps on linear ones */
  for (i = 0; i < 2; i++) {
    double a = i ? y0 : x0, b = i ? y1 : x1, step, v;
    int lg = i ? p->logy : p->logx;
    step = lg ? 1 : pow(10, floor(log10((b - a) / 5)));
    if (!lg && (b - a) / step > 10) step *= 2;
    if (!lg && (b - a) / step > 10) step *= 2.5;
    for (v = ceil(a / step) * step; v <= b + 1e-12; v += step) {
      double real = lg ? pow(10, v) : v, pos;
      char buf[32];
      snprintf(buf, sizeof buf, lg ? "%g" : "%.3g", fabs(real) < 1e-12 ? 0 : real);
      if (i) {
        pos = SY(real);
        fprintf(f, "<line x1='%.1f' x2='%.1f' y1='%.1f' y2='%.1f' stroke='#ddd'/>", L, W - R, pos, pos);
        fprintf(f, "<text x='%.1f' y='%.1f' text-anchor='end'>%s</text>\n", L - 5, pos + 4, buf);
      } else {
        pos = SX(real);
        fprintf(f, "<line x1='%.1f' x2='%.1f' y1='%.1f' y2='%.1f' stroke='#ddd'/>", pos, pos, T, H - B);
        fprintf(f, "<text x='%.1f' y='%.1f' text-anchor='middle'>%s</text>\n", pos, H - B + 16, buf);
      }
    }
  }
  fprintf(f, "<text x='%.0f' y='%.0f' text-anchor='middle'>", L + (W - L - R) / 2, H - 14);
  svg_esc(f, p->xlabel);
  fprintf(f, "</text>\n<text transform='translate(18,%.0f) rotate(-90)' text-anchor='middle'>", T + (H - T - B) / 2);
  svg_esc(f, p->ylabel);
  fprintf(f, "</text>\n");
  for (i = 0; i < p->ns; i++) {
    int st = p->s[i].style & 255, c = (p->s[i].style >> 8) % 8;
    const char *col = svg_colors[c];
    if (st & (SVG_LINE | SVG_DASH)) {
      fprintf(f, "<polyline fill='none' stroke='%s' stroke-width='1.6'%s points='", col, st & SVG_DASH ? " stroke-dasharray='5,4'" : "");
      for (j = 0; j < p->s[i].n; j++)
        if (isfinite(svg_tr(p->s[i].y[j], p->logy))) fprintf(f, "%.1f,%.1f ", SX(p->s[i].x[j]), SY(p->s[i].y[j]));
      fprintf(f, "'/>\n");
    }
    if (st & SVG_DOTS)
      for (j = 0; j < p->s[i].n; j++)
        if (isfinite(svg_tr(p->s[i].y[j], p->logy)))
          fprintf(f, "<circle cx='%.1f' cy='%.1f' r='2.6' fill='%s'/>", SX(p->s[i].x[j]), SY(p->s[i].y[j]), col);
    if (p->s[i].label[0]) {
      double ly = T + 14 + 18 * nl++;
      fprintf(f, "\n<line x1='%.0f' x2='%.0f' y1='%.1f' y2='%.1f' stroke='%s' stroke-width='2'%s/>", W - R + 10, W - R + 34, ly - 4, ly - 4, col,
              st & SVG_DASH ? " stroke-dasharray='5,4'" : (st & SVG_LINE) ? "" : " stroke-dasharray='1,3'");
      fprintf(f, "<text x='%.0f' y='%.1f'>", W - R + 40, ly);
      svg_esc(f, p->s[i].label);
      fprintf(f, "</text>\n");
    }
  }
#undef SX
#undef SY
  fprintf(f, "</svg>\n");
  return fclose(f) != 0;
}

/* least-squares slope of log(y) against log(x) */
static double svg_loglog_slope(const double *x, const double *y, int n) {
  double mx = 0, my = 0, sxy = 0, sxx = 0;
  int i;
  for (i = 0; i < n; i++) mx += log(x[i]) / n, my += log(y[i]) / n;
  for (i = 0; i < n; i++) sxy += (log(x[i]) - mx) * (log(y[i]) - my), sxx += (log(x[i]) - mx) * (log(x[i]) - mx);
  return sxy / sxx;
}
#endif
