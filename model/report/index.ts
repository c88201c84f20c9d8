export type { ReportChart, VegaLiteSpec } from './charts.ts';
export { escapeHtml, formatNumber, humanise, jsonForScript, type NumberFormat } from './html.ts';
export { type RenderReportOptions, renderReport, reportPanels } from './renderReport.ts';
export { loadVegaScripts, type VegaScripts } from './vegaScripts.ts';
