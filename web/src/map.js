// map.js - maps without internet: Leaflet (embedded, loaded on first use)
// on a plain background with the unit boundaries the admin uploaded
// (GET /api/v1/boundaries) and points; tiles only when the node has a
// tile_url setting (GET /api/v1/ui/settings).
import { h, loadScript, loadCss } from './dom.js';
import { api } from './api.js';
import { statusColor } from './colors.js';

const vendor = (f) => new URL(`vendor/leaflet/${f}`, import.meta.url).href;
// Leaflet takes a string tooltip as HTML: report titles and unit names are
// data, so they go in as a text node inside an element, never as markup.
const textEl = (s) => h('span', String(s));
let settings = null;

// A Leaflet map in el showing boundaries; resolves to { map, L, points(layerItems) }.
// withBoundaries false for the public map (no login: boundaries need one).
export async function makeMap(el, { withBoundaries = true, onClick } = {}) {
  loadCss(vendor('leaflet.css'));
  await loadScript(vendor('leaflet.js'));
  const L = window.L;
  L.Icon.Default.imagePath = vendor('images/');
  const map = L.map(el, { preferCanvas: true, zoomControl: true, attributionControl: false });
  map.setView([18.67, 105.68], 9); // Nghệ An until there is data to fit
  settings = settings || (await api('ui/settings').catch(() => ({ tile_url: null })));
  if (settings.tile_url) L.tileLayer(settings.tile_url, { maxZoom: 19 }).addTo(map);
  let bounds = null;
  if (withBoundaries) {
    const fc = await api('boundaries').catch(() => null);
    if (fc?.features?.length) {
      const layer = L.geoJSON(fc, { style: { color: '#1d4e89', weight: 1.5, fillOpacity: 0.05 },
        onEachFeature: (f, l) => l.bindTooltip(textEl(f.properties.name || f.properties.unit)) }).addTo(map);
      bounds = layer.getBounds();
      map.fitBounds(bounds);
    }
  }
  if (onClick) map.on('click', (e) => onClick(e.latlng));
  const group = L.layerGroup().addTo(map);
  return {
    map, L,
    // items: [{lat, lon, status, label, href}]
    points(items, { fit = !bounds } = {}) {
      group.clearLayers();
      const ll = [];
      for (const it of items) {
        if (it.lat == null || it.lon == null) continue;
        const m = L.circleMarker([it.lat, it.lon], { radius: 6, weight: 1, color: '#222',
          fillColor: statusColor[it.status] || '#1d4e89', fillOpacity: 0.9 });
        if (it.label) m.bindTooltip(textEl(it.label));
        if (it.href) m.on('click', () => { location.hash = it.href; });
        m.addTo(group);
        ll.push([it.lat, it.lon]);
      }
      el.dataset.points = ll.length; // for tests: drawn on a canvas, not as elements
      if (fit && ll.length) map.fitBounds(ll, { maxZoom: 15, padding: [20, 20] });
    },
  };
}
