/** The report's stylesheet: system fonts, cards on a quiet background, readable tables. */
export const REPORT_CSS = `
:root {
  --bg: #f6f7f9; --card: #ffffff; --border: #e4e7ec; --text: #1e293b; --muted: #64748b;
  --accent: #2563eb; --good: #15803d; --bad: #b91c1c; --high: #dc2626; --medium: #f59e0b; --low: #64748b;
}
* { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; }
body {
  margin: 0; background: var(--bg); color: var(--text);
  font: 14px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
}
main { max-width: 1240px; margin: 0 auto; padding: 28px 24px 48px; }
header.page { display: flex; flex-wrap: wrap; align-items: flex-end; justify-content: space-between; gap: 12px; margin-bottom: 20px; }
.brand { font-size: 12px; font-weight: 600; letter-spacing: .08em; text-transform: uppercase; color: var(--accent); }
h1 { font-size: 24px; line-height: 1.2; margin: 2px 0 0; font-weight: 650; }
h2 { font-size: 15px; margin: 0 0 2px; font-weight: 600; }
.meta { display: flex; flex-wrap: wrap; gap: 6px 16px; color: var(--muted); font-size: 12.5px; }
.meta b { color: var(--text); font-weight: 550; }
.card { background: var(--card); border: 1px solid var(--border); border-radius: 12px; padding: 16px 18px; box-shadow: 0 1px 2px rgba(16,24,40,.04); min-width: 0; }
.kpis { display: grid; grid-template-columns: repeat(auto-fit, minmax(210px, 1fr)); gap: 14px; margin-bottom: 14px; }
.kpi .label { color: var(--muted); font-size: 12.5px; font-weight: 500; }
.kpi .value { font-size: 28px; font-weight: 650; letter-spacing: -.01em; margin: 2px 0; font-variant-numeric: tabular-nums; }
.kpi .sub { color: var(--muted); font-size: 12.5px; }
.delta-up { color: var(--good); font-weight: 600; }
.delta-down { color: var(--bad); font-weight: 600; }
.notice { border-left: 4px solid var(--accent); background: #eff6ff; padding: 10px 14px; border-radius: 8px; margin-bottom: 14px; color: #1e3a8a; }
.notice.warn { border-color: var(--medium); background: #fffbeb; color: #78350f; }
.grid { display: grid; grid-template-columns: repeat(2, minmax(0, 1fr)); gap: 14px; margin-bottom: 14px; }
@media (max-width: 860px) { .grid { grid-template-columns: 1fr; } }
.caption { color: var(--muted); font-size: 12.5px; margin: 0 0 10px; }
.chart { width: 100%; min-height: 120px; }
.empty { color: var(--muted); font-style: italic; padding: 24px 0; }
table { width: 100%; border-collapse: collapse; font-variant-numeric: tabular-nums; }
th { text-align: left; font-size: 11.5px; font-weight: 600; color: var(--muted); text-transform: uppercase; letter-spacing: .04em; padding: 8px 10px; border-bottom: 1px solid var(--border); }
td { padding: 10px; border-bottom: 1px solid #f0f2f5; vertical-align: top; }
tr:last-child td { border-bottom: 0; }
td.right, th.right { text-align: right; }
td.id { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 12.5px; white-space: nowrap; }
td ul { margin: 0; padding-left: 16px; }
td li { margin: 1px 0; }
.riskbar { display: flex; align-items: center; gap: 8px; min-width: 110px; }
.riskbar .track { flex: 1; height: 6px; background: #eef0f3; border-radius: 3px; overflow: hidden; }
.riskbar .fill { height: 100%; background: linear-gradient(90deg, #fbbf24, #dc2626); border-radius: 3px; }
.badge { display: inline-block; padding: 1px 8px; border-radius: 999px; font-size: 12px; font-weight: 550; white-space: nowrap; }
.band-high { background: #fee2e2; color: #991b1b; }
.band-medium { background: #fef3c7; color: #92400e; }
.band-low { background: #f1f5f9; color: #334155; }
.band-reason { margin: 4px 0 0; min-width: 180px; max-width: 280px; font-size: 11.5px; }
.playbook { background: #e0e7ff; color: #3730a3; }
.metrics td:first-child { color: var(--muted); }
.table-scroll { overflow-x: auto; }
footer { color: var(--muted); font-size: 12px; margin-top: 18px; text-align: center; }
.vega-embed { width: 100%; }
.vega-embed summary { display: none; }
`;
