// map.js - maps without internet: Leaflet (embedded, loaded on first use)
// on a plain background with the unit boundaries the admin uploaded
// (GET /api/v1/boundaries) and points; tiles only when the node has a
// tile_url setting (GET /api/v1/ui/settings).
import { h, loadScript, loadCss } from './dom.js';
import { api } from './api.js';
import { statusColor } from './colors.js';
import { t } from './i18n.js';

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
  map.on('zoomend', () => { el.dataset.zoom = map.getZoom(); }); // for tests: the user's view is kept
  const group = L.layerGroup().addTo(map);
  let fitted = false; // the points fit the view once; later updates keep the user's view
  return {
    map, L,
    // items: [{lat, lon, status, label, href}]; the tooltip names the status
    // in words (never colour alone)
    points(items, { fit = !bounds && !fitted } = {}) {
      group.clearLayers();
      const ll = [];
      for (const it of items) {
        if (it.lat == null || it.lon == null) continue;
        const m = L.circleMarker([it.lat, it.lon], { radius: 6, weight: 1, color: '#222',
          fillColor: statusColor[it.status] || '#1d4e89', fillOpacity: 0.9 });
        if (it.label || it.status) {
          m.bindTooltip(textEl([it.label, it.status ? `(${t('st_' + it.status)})` : ''].filter(Boolean).join(' ')));
        }
        if (it.href) m.on('click', () => { location.hash = it.href; });
        m.addTo(group);
        ll.push([it.lat, it.lon]);
      }
      el.dataset.points = ll.length; // for tests: drawn on a canvas, not as elements
      if (fit && ll.length) { map.fitBounds(ll, { maxZoom: 15, padding: [20, 20] }); fitted = true; }
    },
  };
}

const STEP = { ArrowUp: [1, 0], ArrowDown: [-1, 0], ArrowLeft: [0, -1], ArrowRight: [0, 1] };
// The map picker from the keyboard: with el focused, the arrow keys move
// the pin (placed at the centre first) by a tenth of the view; place(latlng)
// sets it. Leaflet's own arrow-key panning is kept for the other maps.
export function pinByKeys(m, el, current, place) {
  m.map.keyboard?.disable();
  el.addEventListener('keydown', (e) => {
    const d = STEP[e.key];
    if (!d) return;
    e.preventDefault();
    const b = m.map.getBounds(), c = current() || m.map.getCenter();
    const dLat = (b.getNorth() - b.getSouth()) / 10, dLon = (b.getEast() - b.getWest()) / 10;
    const ll = current() ? m.L.latLng(c.lat + d[0] * dLat, c.lng + d[1] * dLon) : c;
    place(ll);
    if (!b.contains(ll)) m.map.panTo(ll);
  });
}
