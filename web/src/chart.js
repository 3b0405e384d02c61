// chart.js - small trend charts with uPlot (embedded, loaded on first use).
import { loadScript, loadCss } from './dom.js';
import { fmtNum, t } from './i18n.js';

const vendor = (f) => new URL(`vendor/uplot/${f}`, import.meta.url).href;
const ddmm = (v) => { const d = new Date(v * 1000 + 7 * 3600000);
  return `${String(d.getUTCDate()).padStart(2, '0')}/${String(d.getUTCMonth() + 1).padStart(2, '0')}`; };

// A line chart of series [{label, values, color}] over days (ms) in el,
// as wide as el and following its width; counts (integer: true) get
// whole-number ticks, the time axis a tick per data point (up to 12), the legend's
// time column xLabel.
export async function trendChart(el, days, series, { height = 160, integer = false, xLabel = t('time') } = {}) {
  loadCss(vendor('uPlot.css'));
  await loadScript(vendor('uPlot.js'));
  const width = () => Math.max(200, Math.floor(el.clientWidth || 320) - 2);
  const xs = days.map((d) => d / 1000);
  const u = new window.uPlot({
    width: width(), height, legend: { show: true },
    scales: { x: { time: true } },
    // dates as dd/mm (Vietnamese order), numbers with Vietnamese separators
    axes: [{ ...(xs.length <= 12 ? { splits: () => xs } : {}), values: (_, vals) => vals.map(ddmm) },
      { size: 48, values: (_, vals) => vals.map((v) => fmtNum(v)),
        ...(integer ? { incrs: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000] } : {}) }],
    series: [{ label: xLabel, value: (_, v) => (v == null ? '–' : ddmm(v)) },
      ...series.map((s) => ({ label: s.label, stroke: s.color, width: 2,
        value: (_, v) => fmtNum(v) }))],
  }, [xs, ...series.map((s) => s.values)], el);
  const ro = new ResizeObserver(() => { if (el.isConnected) u.setSize({ width: width(), height }); });
  ro.observe(el);
  return u;
}
