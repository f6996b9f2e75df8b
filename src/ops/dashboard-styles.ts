/**
 * The dashboard's stylesheet, served from /dashboard/assets/dashboard.css (a module, not a file, so the built
 * dist/ needs no asset copying). Charts colour themselves with SVG attributes; this only lays the page out.
 */
export const DASHBOARD_CSS = `
:root { color-scheme: light; --ink: #1a202c; --muted: #4a5568; --line: #e2e8f0; --bg: #f7fafc; --card: #fff;
  --accent: #2b6cb0; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink);
  background: var(--bg); }
header { display: flex; align-items: baseline; gap: 16px; padding: 14px 24px; background: #1a365d; color: #fff; }
header h1 { margin: 0; font-size: 18px; }
header .meta { color: #cbd5e0; font-size: 12px; }
header a { color: #fff; }
main { padding: 16px 24px 32px; max-width: 1280px; }
h2 { font-size: 15px; margin: 24px 0 8px; }
section.card { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 12px 16px; }
.kpis { display: grid; grid-template-columns: repeat(auto-fit, minmax(150px, 1fr)); gap: 12px; }
.kpi { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 10px 14px; }
.kpi .value { font-size: 24px; font-weight: 700; }
.kpi .label { color: var(--muted); font-size: 12px; }
.charts { display: flex; flex-wrap: wrap; gap: 12px; }
figure.chart { margin: 0; background: var(--card); border: 1px solid var(--line); border-radius: 8px;
  padding: 10px 12px; }
figure.chart.wide { flex-basis: 100%; }
figure.chart svg { max-width: 100%; height: auto; display: block; }
figcaption { font-weight: 600; margin-bottom: 6px; }
p.empty { color: var(--muted); margin: 8px 0; }
table { border-collapse: collapse; width: 100%; background: var(--card); }
th, td { text-align: left; padding: 6px 10px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { font-size: 12px; color: var(--muted); font-weight: 600; }
td.num { font-variant-numeric: tabular-nums; }
.state { display: inline-block; padding: 1px 8px; border-radius: 10px; font-size: 12px; background: #edf2f7; }
.state-active { background: #c6f6d5; }
.state-awaiting_confirmation { background: #bee3f8; }
.state-paused { background: #feebc8; }
.state-taken_over { background: #e9d8fd; }
.overdue { color: #c53030; font-weight: 600; }
.turn { border-left: 3px solid var(--line); padding: 6px 12px; margin: 8px 0; background: var(--card); }
.turn-user { border-color: #3182ce; }
.turn-assistant { border-color: #2f855a; }
.turn-technician { border-color: #805ad5; }
.turn-system { border-color: #a0aec0; }
.turn .who { font-size: 12px; color: var(--muted); }
.turn .text { white-space: pre-wrap; word-break: break-word; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: 4px 16px; margin: 0; }
dl.facts dt { color: var(--muted); }
dl.facts dd { margin: 0; }
`;
