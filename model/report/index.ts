export { renderReport, reportPanels, type RenderReportOptions } from './renderReport.ts';
export { escapeHtml, formatNumber, humanise, jsonForScript, type NumberFormat } from './html.ts';
export { loadVegaScripts, type VegaScripts } from './vegaScripts.ts';
export type { ReportChart, VegaLiteSpec } from './charts.ts';
