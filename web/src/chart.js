// chart.js - small trend charts with uPlot (embedded, loaded on first use).
import { loadScript, loadCss } from './dom.js';

const vendor = (f) => new URL(`vendor/uplot/${f}`, import.meta.url).href;

// A line chart of series [{label, values, color}] over days (ms) in el.
export async function trendChart(el, days, series, { height = 160 } = {}) {
  loadCss(vendor('uPlot.css'));
  await loadScript(vendor('uPlot.js'));
  const width = Math.max(240, el.clientWidth || 320);
  return new window.uPlot({
    width, height, legend: { show: true },
    scales: { x: { time: true } },
    axes: [{}, { size: 40 }],
    series: [{}, ...series.map((s) => ({ label: s.label, stroke: s.color, width: 2 }))],
  }, [days.map((d) => d / 1000), ...series.map((s) => s.values)], el);
}
