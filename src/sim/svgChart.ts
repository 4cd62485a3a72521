/**
 * A small SVG line chart written by hand (no dependency): series of points with optional confidence bars, linear
 * axes with ticks, a legend. Deterministic text output, so a results folder is reproducible byte for byte.
 */

/** One point; lo/hi draw an error bar (a confidence interval). */
export interface ChartPoint {
  readonly x: number;
  readonly y: number;
  readonly lo?: number;
  readonly hi?: number;
}

/** A named series: drawn as a line (a reference) or as markers with error bars (simulated). */
export interface ChartSeries {
  readonly name: string;
  readonly points: readonly ChartPoint[];
  readonly style: 'line' | 'markers';
}

/** What to draw. */
export interface ChartSpec {
  readonly title: string;
  readonly xLabel: string;
  readonly yLabel: string;
  readonly series: readonly ChartSeries[];
}

const COLOURS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#17becf'];

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function fmt(v: number): string {
  return Number(v.toPrecision(4)).toString();
}

/** Nice tick values covering [lo, hi] (about 5). */
function ticks(lo: number, hi: number): number[] {
  if (hi <= lo) hi = lo + 1;
  const raw = (hi - lo) / 5;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(Number(v.toPrecision(12)));
  return out;
}

/** Renders the chart as a standalone SVG document (800×500). */
export function renderSvgChart(spec: ChartSpec): string {
  const W = 800;
  const H = 500;
  const m = { l: 80, r: 220, t: 50, b: 60 };
  const all = spec.series.flatMap((s) => s.points);
  const xs = all.map((p) => p.x);
  const ys = all.flatMap((p) => [p.y, p.lo ?? p.y, p.hi ?? p.y]).filter(Number.isFinite);
  const xMin = Math.min(...xs, 0);
  const xMaxData = Math.max(...xs);
  const xMax = xMaxData > xMin ? xMaxData : xMin + 1;
  const yMin = Math.min(0, ...ys);
  const yMax = Math.max(...ys, yMin + 1e-9) * 1.05;
  const px = (x: number): number => m.l + ((x - xMin) / (xMax - xMin)) * (W - m.l - m.r);
  const py = (y: number): number => H - m.b - ((y - yMin) / (yMax - yMin)) * (H - m.t - m.b);
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`);
  out.push(`<rect width="${W}" height="${H}" fill="white"/>`);
  out.push(`<text x="${W / 2 - m.r / 2}" y="25" text-anchor="middle" font-size="15">${esc(spec.title)}</text>`);
  out.push(`<line x1="${m.l}" y1="${H - m.b}" x2="${W - m.r}" y2="${H - m.b}" stroke="black"/>`);
  out.push(`<line x1="${m.l}" y1="${m.t}" x2="${m.l}" y2="${H - m.b}" stroke="black"/>`);
  for (const t of ticks(xMin, xMax)) {
    out.push(`<line x1="${px(t).toFixed(1)}" y1="${H - m.b}" x2="${px(t).toFixed(1)}" y2="${H - m.b + 5}" stroke="black"/>`);
    out.push(`<text x="${px(t).toFixed(1)}" y="${H - m.b + 18}" text-anchor="middle">${fmt(t)}</text>`);
  }
  for (const t of ticks(yMin, yMax)) {
    out.push(`<line x1="${m.l - 5}" y1="${py(t).toFixed(1)}" x2="${W - m.r}" y2="${py(t).toFixed(1)}" stroke="#ddd"/>`);
    out.push(`<text x="${m.l - 8}" y="${(py(t) + 4).toFixed(1)}" text-anchor="end">${fmt(t)}</text>`);
  }
  out.push(`<text x="${(m.l + W - m.r) / 2}" y="${H - 15}" text-anchor="middle">${esc(spec.xLabel)}</text>`);
  out.push(`<text x="20" y="${(m.t + H - m.b) / 2}" text-anchor="middle" transform="rotate(-90 20 ${(m.t + H - m.b) / 2})">${esc(spec.yLabel)}</text>`);
  spec.series.forEach((s, i) => {
    const c = COLOURS[i % COLOURS.length]!;
    const pts = [...s.points].sort((a, b) => a.x - b.x);
    if (s.style === 'line') {
      out.push(`<polyline fill="none" stroke="${c}" stroke-width="2" points="${pts.map((p) => `${px(p.x).toFixed(1)},${py(p.y).toFixed(1)}`).join(' ')}"/>`);
    } else {
      for (const p of pts) {
        if (p.lo !== undefined && p.hi !== undefined) {
          out.push(`<line x1="${px(p.x).toFixed(1)}" y1="${py(p.lo).toFixed(1)}" x2="${px(p.x).toFixed(1)}" y2="${py(p.hi).toFixed(1)}" stroke="${c}"/>`);
        }
        out.push(`<circle cx="${px(p.x).toFixed(1)}" cy="${py(p.y).toFixed(1)}" r="4" fill="${c}"/>`);
      }
    }
    const ly = m.t + 10 + i * 20;
    out.push(`<rect x="${W - m.r + 15}" y="${ly - 8}" width="12" height="12" fill="${c}"/>`);
    out.push(`<text x="${W - m.r + 32}" y="${ly + 2}">${esc(s.name)}</text>`);
  });
  out.push('</svg>');
  return out.join('\n') + '\n';
}
