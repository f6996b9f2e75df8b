/**
 * Small charts drawn as inline SVG on the server: no chart library, no script in the page, nothing to build or
 * download at run time, and the dashboard's Content-Security-Policy can forbid scripts entirely. Every label is
 * escaped (safe-html), every bar carries its value as text so the numbers are readable without hovering.
 */
import { html, SafeHtml, type Interpolation } from './safe-html.js';

export const CHART_COLOURS = {
  resolved: '#2f855a',
  escalated: '#c05621',
  timedOut: '#b7791f',
  other: '#718096',
  rate: '#2b6cb0',
  bar: '#3182ce',
  failure: '#c53030',
};

export interface BarItem {
  label: string;
  value: number;
  /** Text shown after the bar; the value when absent. */
  display?: string;
}

const FONT = 'system-ui, -apple-system, Segoe UI, Roboto, sans-serif';

function round1(n: number): number {
  return Math.round(n * 10) / 10;
}

function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/** Horizontal bars, one per item, largest scale = the largest value (or `max`). */
export function horizontalBarChart(options: {
  id: string;
  title: string;
  items: BarItem[];
  colour?: string;
  max?: number;
  width?: number;
  emptyText?: string;
}): SafeHtml {
  const { id, title, items } = options;
  if (items.length === 0) {
    return html`<figure class="chart" data-chart="${id}">
      <figcaption>${title}</figcaption>
      <p class="empty">${options.emptyText ?? 'No data yet.'}</p>
    </figure>`;
  }
  const width = options.width ?? 460;
  const labelWidth = 170;
  const valueWidth = 70;
  const barHeight = 20;
  const gap = 8;
  const top = 6;
  const plot = width - labelWidth - valueWidth;
  const max = options.max ?? Math.max(...items.map((i) => i.value), 1);
  const height = top + items.length * (barHeight + gap);
  const colour = options.colour ?? CHART_COLOURS.bar;
  const bars = items.map((item, index) => {
    const y = top + index * (barHeight + gap);
    const w = max > 0 ? Math.max(item.value > 0 ? 2 : 0, round1((item.value / max) * plot)) : 0;
    const display = item.display ?? String(item.value);
    return html`<g data-label="${item.label}" data-value="${item.value}">
      <title>${item.label}: ${display}</title>
      <text
        x="${labelWidth - 8}"
        y="${y + barHeight / 2}"
        text-anchor="end"
        dominant-baseline="middle"
        font-size="12"
        fill="#2d3748"
        >${truncate(item.label, 26)}</text
      >
      <rect x="${labelWidth}" y="${y}" width="${w}" height="${barHeight}" rx="3" fill="${colour}"></rect>
      <text
        x="${labelWidth + w + 6}"
        y="${y + barHeight / 2}"
        dominant-baseline="middle"
        font-size="12"
        font-weight="600"
        fill="#1a202c"
        >${display}</text
      >
    </g>`;
  });
  return chartFigure({ id, title, width, height }, [bars]);
}

export interface ColumnSeries {
  name: string;
  colour: string;
  values: number[];
}

/**
 * Stacked columns per period (e.g. outcomes per day) with an optional line on a 0–100 % axis (e.g. resolution
 * rate). `labels` name the periods, one per value.
 */
export function stackedColumnChart(options: {
  id: string;
  title: string;
  labels: string[];
  series: ColumnSeries[];
  line?: { name: string; colour: string; values: (number | null)[] };
  width?: number;
  height?: number;
}): SafeHtml {
  const { id, title, labels, series, line } = options;
  const width = options.width ?? 720;
  const height = options.height ?? 240;
  const left = 36;
  const right = line ? 44 : 12;
  const top = 12;
  const bottom = 44;
  const plotW = width - left - right;
  const plotH = height - top - bottom;
  const totals = labels.map((_, i) => series.reduce((sum, s) => sum + (s.values[i] ?? 0), 0));
  const maxTotal = Math.max(1, ...totals);
  const step = niceStep(maxTotal);
  const axisMax = Math.ceil(maxTotal / step) * step;
  const slot = plotW / Math.max(1, labels.length);
  const colW = Math.max(2, Math.min(28, slot * 0.7));
  const yOf = (v: number) => round1(top + plotH - (v / axisMax) * plotH);

  const grid: SafeHtml[] = [];
  for (let v = 0; v <= axisMax; v += step) {
    grid.push(
      html`<line x1="${left}" x2="${left + plotW}" y1="${yOf(v)}" y2="${yOf(v)}" stroke="#e2e8f0"></line>
        <text
          x="${left - 6}"
          y="${yOf(v)}"
          text-anchor="end"
          dominant-baseline="middle"
          font-size="11"
          fill="#4a5568"
          >${v}</text
        >`,
    );
  }
  const labelEvery = Math.ceil(labels.length / 10);
  const columns = labels.map((label, i) => {
    const x = round1(left + i * slot + (slot - colW) / 2);
    let base = 0;
    const parts = series.map((s) => {
      const v = s.values[i] ?? 0;
      if (v <= 0) return html``;
      const y0 = yOf(base);
      base += v;
      const y1 = yOf(base);
      return html`<rect
        x="${x}"
        y="${y1}"
        width="${round1(colW)}"
        height="${round1(y0 - y1)}"
        fill="${s.colour}"
        ><title>${label} ${s.name}: ${v}</title></rect
      >`;
    });
    const tick =
      i % labelEvery === 0
        ? html`<text
            x="${round1(x + colW / 2)}"
            y="${top + plotH + 16}"
            text-anchor="middle"
            font-size="11"
            fill="#4a5568"
            >${label}</text
          >`
        : html``;
    return html`<g data-period="${label}" data-total="${totals[i] ?? 0}">${parts}${tick}</g>`;
  });

  let lineMarkup = html``;
  if (line) {
    const yRate = (r: number) => round1(top + plotH - r * plotH);
    const points = line.values
      .map((r, i) => (r === null ? null : `${round1(left + i * slot + slot / 2)},${yRate(r)}`))
      .filter((p): p is string => p !== null);
    const rateTicks = [0, 0.5, 1].map(
      (r) =>
        html`<text
          x="${left + plotW + 6}"
          y="${yRate(r)}"
          dominant-baseline="middle"
          font-size="11"
          fill="${line.colour}"
          >${Math.round(r * 100)}%</text
        >`,
    );
    const dots = line.values.map((r, i) =>
      r === null
        ? html``
        : html`<circle cx="${round1(left + i * slot + slot / 2)}" cy="${yRate(r)}" r="3" fill="${line.colour}"
            ><title>${labels[i] ?? ''} ${line.name}: ${Math.round(r * 100)}%</title></circle
          >`,
    );
    lineMarkup = html`<polyline
        points="${points.join(' ')}"
        fill="none"
        stroke="${line.colour}"
        stroke-width="2"
      ></polyline
      >${dots}${rateTicks}`;
  }

  const legendItems = [
    ...series.map((s) => ({ name: s.name, colour: s.colour })),
    ...(line ? [{ name: line.name, colour: line.colour }] : []),
  ];
  const legend = legendItems.map(
    (item, i) =>
      html`<rect x="${left + i * 130}" y="${height - 14}" width="10" height="10" fill="${item.colour}"></rect>
        <text
          x="${left + i * 130 + 14}"
          y="${height - 9}"
          dominant-baseline="middle"
          font-size="11"
          fill="#2d3748"
          >${item.name}</text
        >`,
  );

  return chartFigure({ id, title, width, height, wide: true }, [grid, columns, lineMarkup, legend]);
}

/** The captioned, labelled SVG every chart is drawn in. */
function chartFigure(
  frame: { id: string; title: string; width: number; height: number; wide?: boolean },
  content: Interpolation[],
): SafeHtml {
  const { id, title, width, height } = frame;
  return html`<figure class="${frame.wide ? 'chart wide' : 'chart'}" data-chart="${id}">
    <figcaption id="${id}-title">${title}</figcaption>
    <svg
      xmlns="http://www.w3.org/2000/svg"
      role="img"
      aria-labelledby="${id}-title"
      viewBox="0 0 ${width} ${height}"
      width="${width}"
      height="${height}"
      font-family="${FONT}"
    >
      ${content}
    </svg>
  </figure>`;
}

/** 1, 2 or 5 × 10^n, so an axis has about four gridlines. */
function niceStep(max: number): number {
  const raw = max / 4;
  const magnitude = 10 ** Math.floor(Math.log10(Math.max(raw, 1)));
  for (const m of [1, 2, 5, 10]) if (m * magnitude >= raw) return Math.max(1, m * magnitude);
  return Math.max(1, 10 * magnitude);
}
