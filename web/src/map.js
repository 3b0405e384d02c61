// map.js - maps without internet (docs/web.md, "Maps offline"): Leaflet,
// protomaps-leaflet and Leaflet.markercluster (embedded, loaded on first
// use) draw the node's basemap (GET /basemap.pmtiles, vector tiles read by
// byte ranges), the unit boundaries with their names on top
// (GET /api/v1/public/boundaries) and points, clustered when they crowd.
// A tile server in the node's settings (tile_url, GET /api/v1/ui/settings)
// replaces the basemap for nodes with internet.
import { h, loadScript, loadCss } from './dom.js';
import { api, session } from './api.js';
import { statusColor } from './colors.js';
import { t, getLang } from './i18n.js';

const vendor = (f) => new URL(`vendor/${f}`, import.meta.url).href;
const BASEMAP = '/basemap.pmtiles';
const WATER = '#80deea'; // the sea: where the basemap has no land
const LABEL_MIN_PX = 80; // the narrowest unit (on screen) whose name is drawn
// Leaflet takes a string tooltip as HTML: report titles and unit names are
// data, so they go in as a text node inside an element, never as markup.
const textEl = (s) => h('span', String(s));
let settings = null;
let basemap = null; // basemapInfo()

async function loadLibraries() {
  loadCss(vendor('leaflet/leaflet.css'));
  loadCss(vendor('markercluster/MarkerCluster.css'));
  loadCss(vendor('markercluster/MarkerCluster.Default.css'));
  await loadScript(vendor('leaflet/leaflet.js'));
  await Promise.all([loadScript(vendor('protomaps-leaflet/protomaps-leaflet.js')),
    loadScript(vendor('markercluster/leaflet.markercluster.js'))]);
  window.L.Icon.Default.imagePath = vendor('leaflet/images/');
  return window.L;
}

// What the map needs of the node's basemap: its deepest zoom (byte 101 of
// the PMTiles header; deeper views draw its tiles enlarged rather than ask
// for missing ones) and its attribution as plain text (the metadata's,
// e.g. OpenStreetMap's for a Protomaps extract).
async function basemapInfo() {
  if (!basemap) {
    const range = async (from, len) => {
      const r = await fetch(BASEMAP, { headers: { Range: `bytes=${from}-${from + len - 1}` } });
      if (!r.ok) throw new Error(`${BASEMAP}: ${r.status}`);
      return r.arrayBuffer();
    };
    const head = new DataView(await range(0, 127));
    const at = Number(head.getBigUint64(24, true)), len = Number(head.getBigUint64(32, true));
    let attribution = '';
    if (len > 0 && len < 1 << 20) {
      let meta = new Blob([await range(at, len)]).stream();
      if (head.getUint8(97) === 2) meta = meta.pipeThrough(new DecompressionStream('gzip'));
      const m = JSON.parse(await new Response(meta).text());
      attribution = String(m.attribution || '').replace(/<[^>]*>/g, '').trim();
    }
    basemap = { maxZoom: head.getUint8(101), attribution };
  }
  return basemap;
}

// Text made safe for Leaflet's attribution, which it inserts as HTML.
const escapeHtml = (s) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

// The base layer: the tile server of the settings, else the node's basemap.
async function addBase(L, map) {
  settings = settings || (await api('ui/settings').catch(() => ({ tile_url: null })));
  if (settings.tile_url) return L.tileLayer(settings.tile_url, { maxZoom: 19 }).addTo(map);
  const info = await basemapInfo();
  if (info.attribution) L.control.attribution({ prefix: false }).addAttribution(escapeHtml(info.attribution)).addTo(map);
  const layer = window.protomapsL.leafletLayer({ url: BASEMAP, flavor: 'light', lang: getLang(),
    maxDataZoom: info.maxZoom, attribution: '' });
  layer.backgroundColor = WATER;
  // Tiles of a zoom level left behind are fetched to the end rather than
  // aborted: the node is near, and an aborted fetch reads as a failed request.
  for (const v of layer.views?.values() ?? []) if (v.tileCache?.source) v.tileCache.source.shouldCancelZooms = false;
  return layer.addTo(map);
}

// The boundaries with each unit's name on top; the node's own unit's
// bounds (else all of them), or null when none is stored.
async function addBoundaries(L, map) {
  const fc = await api('public/boundaries').catch(() => null);
  if (!fc?.features?.length) return null;
  let own = null;
  const layer = L.geoJSON(fc, { style: { color: '#1d4e89', weight: 1.5, fillOpacity: 0.05 },
    onEachFeature: (f, l) => {
      l.bindTooltip(textEl(f.properties.name || f.properties.unit),
        { permanent: true, direction: 'center', className: 'unit-label' });
      if (f.properties.unit === session.node_unit) own = l.getBounds();
    } }).addTo(map);
  // a name only on a unit wide enough to hold it: a province's hundreds of
  // communes are named once one zooms in
  const labels = () => layer.eachLayer((l) => {
    const b = l.getBounds();
    const wide = map.latLngToLayerPoint(b.getNorthEast()).x - map.latLngToLayerPoint(b.getSouthWest()).x > LABEL_MIN_PX;
    if (wide !== l.isTooltipOpen()) (wide ? l.openTooltip() : l.closeTooltip());
  });
  map.on('zoomend', labels);
  labels();
  return own || layer.getBounds();
}

// A Leaflet map in el: basemap, boundaries and points; resolves to
// { map, L, points(items) } once the view is on the node's own unit.
// onCreate(same object) runs as soon as the map exists, before the layers
// load (the picker takes keys from then on).
export async function makeMap(el, { onClick, onCreate } = {}) {
  const L = await loadLibraries();
  const map = L.map(el, { preferCanvas: true, zoomControl: true, attributionControl: false, maxZoom: 18 });
  map.setView([16.0, 106.0], 5); // Vietnam until the node's area is known
  map.on('zoomend', () => { el.dataset.zoom = map.getZoom(); }); // for tests: the user's view is kept
  if (onClick) map.on('click', (e) => onClick(e.latlng));
  const group = L.markerClusterGroup({ showCoverageOnHover: false, maxClusterRadius: 40,
    chunkedLoading: true }).addTo(map);
  let bounds = null;
  let fitted = false; // the points fit the view once; later updates keep the user's view
  const view = {
    map, L,
    // items: [{lat, lon, status, label, href}]; the tooltip names the status
    // in words (never colour alone)
    points(items, { fit = !bounds && !fitted } = {}) {
      group.clearLayers();
      const ll = [], markers = [];
      for (const it of items) {
        if (it.lat == null || it.lon == null) continue;
        const m = L.circleMarker([it.lat, it.lon], { radius: 6, weight: 1, color: '#222',
          fillColor: statusColor[it.status] || '#1d4e89', fillOpacity: 0.9 });
        if (it.label || it.status) {
          m.bindTooltip(textEl([it.label, it.status ? `(${t('st_' + it.status)})` : ''].filter(Boolean).join(' ')));
        }
        if (it.href) m.on('click', () => { location.hash = it.href; });
        markers.push(m);
        ll.push([it.lat, it.lon]);
      }
      group.addLayers(markers);
      el.dataset.points = ll.length; // for tests: drawn on a canvas, not as elements
      el.dataset.updates = Number(el.dataset.updates || 0) + 1;
      if (fit && ll.length) { map.fitBounds(ll, { maxZoom: 15, padding: [20, 20] }); fitted = true; }
    },
  };
  onCreate?.(view);
  [, bounds] = await Promise.all([addBase(L, map).catch(() => null), addBoundaries(L, map)]);
  if (bounds) map.fitBounds(bounds);
  el.dataset.ready = '1';
  return view;
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
