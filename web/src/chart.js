// chart.js - small trend charts with uPlot (embedded, loaded on first use).
import { loadScript, loadCss } from './dom.js';
import { fmtNum } from './i18n.js';

const vendor = (f) => new URL(`vendor/uplot/${f}`, import.meta.url).href;

// A line chart of series [{label, values, color}] over days (ms) in el.
export async function trendChart(el, days, series, { height = 160 } = {}) {
  loadCss(vendor('uPlot.css'));
  await loadScript(vendor('uPlot.js'));
  const width = Math.max(240, el.clientWidth || 320);
  return new window.uPlot({
    width, height, legend: { show: true },
    scales: { x: { time: true } },
    // dates as dd/mm (Vietnamese order), numbers with Vietnamese separators
    axes: [{ values: (u, vals) => vals.map((v) => { const d = new Date(v * 1000 + 7 * 3600000);
      return `${String(d.getUTCDate()).padStart(2, '0')}/${String(d.getUTCMonth() + 1).padStart(2, '0')}`; }) },
    { size: 48, values: (u, vals) => vals.map((v) => fmtNum(v)) }],
    series: [{}, ...series.map((s) => ({ label: s.label, stroke: s.color, width: 2 }))],
  }, [days.map((d) => d / 1000), ...series.map((s) => s.values)], el);
}
