// basemap.mjs - builds the basemap every node carries (docs/web.md, "Maps
// offline"): Vietnam and its neighbours from Natural Earth 1:10m (the
// world-atlas package) as a PMTiles v3 archive of vector tiles in the
// Protomaps basemap layout (layers "earth", "boundaries", "places",
// "water"), so the browser draws it with protomaps-leaflet exactly like a
// full Protomaps extract an operator places beside the node.
//
//   node web/tools/basemap.mjs OUT.pmtiles
//
// Run by the build (CMakeLists.txt); reads only web/node_modules, no network.
import { readFileSync, writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { feature, mesh } from 'topojson-client';
import GeoJSONVT from 'geojson-vt';
import vtpbf from 'vt-pbf';
import { zxyToTileId, PMTiles } from 'pmtiles';

const MIN_ZOOM = 0, MAX_ZOOM = 10;
// west, south, east, north: Vietnam, the East Sea and a margin of the neighbours
const BBOX = [97.0, 5.0, 113.0, 25.0];
const require = createRequire(fileURLToPath(import.meta.url));
const atlas = (f) => JSON.parse(readFileSync(require.resolve(`world-atlas/${f}`), 'utf8'));

// Labels of the countries and the sea, at points inside them.
const LABELS = [
  { layer: 'places', kind: 'country', lon: 105.8, lat: 21.0, min_zoom: 3, name: 'Việt Nam', en: 'Vietnam' },
  { layer: 'places', kind: 'country', lon: 103.0, lat: 19.6, min_zoom: 3, name: 'Lào', en: 'Laos' },
  { layer: 'places', kind: 'country', lon: 104.9, lat: 12.7, min_zoom: 3, name: 'Campuchia', en: 'Cambodia' },
  { layer: 'places', kind: 'country', lon: 101.0, lat: 15.5, min_zoom: 3, name: 'Thái Lan', en: 'Thailand' },
  { layer: 'places', kind: 'country', lon: 106.5, lat: 24.0, min_zoom: 3, name: 'Trung Quốc', en: 'China' },
  { layer: 'places', kind: 'locality', lon: 105.834, lat: 21.028, min_zoom: 4, population_rank: 11, name: 'Hà Nội', en: 'Hanoi' },
  { layer: 'places', kind: 'locality', lon: 106.66, lat: 10.776, min_zoom: 4, population_rank: 11, name: 'Thành phố Hồ Chí Minh', en: 'Ho Chi Minh City' },
  { layer: 'places', kind: 'locality', lon: 105.681, lat: 18.679, min_zoom: 6, population_rank: 8, name: 'Vinh', en: 'Vinh' },
  { layer: 'places', kind: 'locality', lon: 108.22, lat: 16.054, min_zoom: 5, population_rank: 9, name: 'Đà Nẵng', en: 'Da Nang' },
  { layer: 'water', kind: 'sea', lon: 111.0, lat: 15.5, min_zoom: 3, name: 'Biển Đông', en: 'East Sea' },
];

const near = (lon, lat) => lon > BBOX[0] - 5 && lon < BBOX[2] + 5 && lat > BBOX[1] - 5 && lat < BBOX[3] + 5;

// The polygons of a MultiPolygon that touch the box (with a margin): the
// rest of the world's land is left out before tiling.
function polygonsNear(geom) {
  const polys = geom.type === 'Polygon' ? [geom.coordinates] : geom.coordinates;
  return polys.filter((p) => p[0].some(([lon, lat]) => near(lon, lat)));
}

// One GeoJSONVT index per layer.
function layers() {
  const land = atlas('land-10m.json');
  const countries = atlas('countries-10m.json');
  const earth = feature(land, land.objects.land).features.flatMap((f) => polygonsNear(f.geometry))
    .map((coordinates) => ({ type: 'Feature', properties: { kind: 'earth' },
      geometry: { type: 'Polygon', coordinates } }));
  const borders = mesh(countries, countries.objects.countries, (a, b) => a !== b);
  const lines = borders.coordinates.filter((l) => l.some(([lon, lat]) => near(lon, lat)));
  const label = (l) => ({ type: 'Feature', geometry: { type: 'Point', coordinates: [l.lon, l.lat] },
    properties: { kind: l.kind, name: l.name, 'name:vi': l.name, 'name:en': l.en, min_zoom: l.min_zoom,
      ...(l.population_rank ? { population_rank: l.population_rank } : {}) } });
  const fc = (features) => ({ type: 'FeatureCollection', features });
  const opts = { maxZoom: MAX_ZOOM, indexMaxZoom: MAX_ZOOM, tolerance: 2, buffer: 64 };
  return {
    earth: new GeoJSONVT(fc(earth), opts),
    boundaries: new GeoJSONVT(fc([{ type: 'Feature', properties: { kind: 'country', kind_detail: 2 },
      geometry: { type: 'MultiLineString', coordinates: lines } }]), opts),
    places: new GeoJSONVT(fc(LABELS.filter((l) => l.layer === 'places').map(label)), opts),
    water: new GeoJSONVT(fc(LABELS.filter((l) => l.layer === 'water').map(label)), opts),
  };
}

const tileX = (lon, z) => Math.floor(((lon + 180) / 360) * 2 ** z);
const tileY = (lat, z) => {
  const r = (lat * Math.PI) / 180;
  return Math.floor(((1 - Math.log(Math.tan(r) + 1 / Math.cos(r)) / Math.PI) / 2) * 2 ** z);
};

// The gzip'd MVT of every non-empty tile in the box: [{id, data}] by id.
function tiles(idx) {
  const out = [];
  for (let z = MIN_ZOOM; z <= MAX_ZOOM; z++) {
    for (let x = tileX(BBOX[0], z); x <= tileX(BBOX[2], z); x++) {
      for (let y = tileY(BBOX[3], z); y <= tileY(BBOX[1], z); y++) {
        const ls = {};
        for (const name of ['earth', 'water', 'boundaries', 'places']) {
          const t = idx[name].getTile(z, x, y);
          if (t && t.features.length) ls[name] = t;
        }
        if (!Object.keys(ls).length) continue;
        const mvt = vtpbf.fromGeojsonVt(ls, { version: 2, extent: 4096 });
        out.push({ id: zxyToTileId(z, x, y), data: gzipSync(Buffer.from(mvt), { level: 9 }) });
      }
    }
  }
  return out.sort((a, b) => a.id - b.id);
}

function varint(out, n) {
  while (n >= 0x80) { out.push((n % 0x80) | 0x80); n = Math.floor(n / 0x80); }
  out.push(n);
}

// A PMTiles v3 directory: counts, then id deltas, run lengths, lengths and
// offsets (0 = right after the previous entry) as varints.
function directory(entries) {
  const b = [];
  varint(b, entries.length);
  let last = 0;
  for (const e of entries) { varint(b, e.id - last); last = e.id; }
  for (const e of entries) varint(b, e.run);
  for (const e of entries) varint(b, e.length);
  entries.forEach((e, i) => {
    const prev = entries[i - 1];
    varint(b, i > 0 && e.offset === prev.offset + prev.length ? 0 : e.offset + 1);
  });
  return Buffer.from(b);
}

// Identical tiles (open sea, inland) are stored once; a run of identical
// consecutive ids is one entry.
function layout(list) {
  const seen = new Map(), blobs = [], entries = [];
  let size = 0;
  for (const t of list) {
    const key = t.data.toString('base64');
    let at = seen.get(key);
    if (at === undefined) { at = size; seen.set(key, at); blobs.push(t.data); size += t.data.length; }
    const last = entries[entries.length - 1];
    if (last && last.offset === at && last.id + last.run === t.id) last.run++;
    else entries.push({ id: t.id, offset: at, length: t.data.length, run: 1 });
  }
  return { entries, data: Buffer.concat(blobs), contents: blobs.length };
}

function header(h) {
  const b = Buffer.alloc(127);
  b.write('PMTiles', 0, 'latin1');
  b[7] = 3;
  const u64 = (off, v) => b.writeBigUInt64LE(BigInt(v), off);
  [h.rootOff, h.rootLen, h.metaOff, h.metaLen, 0, 0, h.dataOff, h.dataLen, h.addressed, h.entries,
    h.contents].forEach((v, i) => u64(8 + i * 8, v));
  b[96] = 1; // clustered
  b[97] = 2; // internal compression: gzip
  b[98] = 2; // tile compression: gzip
  b[99] = 1; // tile type: mvt
  b[100] = MIN_ZOOM;
  b[101] = MAX_ZOOM;
  const e7 = (v) => Math.round(v * 1e7);
  [e7(BBOX[0]), e7(BBOX[1]), e7(BBOX[2]), e7(BBOX[3])].forEach((v, i) => b.writeInt32LE(v, 102 + i * 4));
  b[118] = 5;
  b.writeInt32LE(e7(106.0), 119);
  b.writeInt32LE(e7(16.0), 123);
  return b;
}

// Reads the archive back with the pmtiles library the browser uses: the
// build fails rather than embed a file the map cannot draw.
async function verify(buf, sample) {
  const src = { getKey: () => 'basemap', getBytes: async (offset, length) =>
    ({ data: buf.buffer.slice(buf.byteOffset + offset, buf.byteOffset + offset + length) }) };
  const p = new PMTiles(src);
  const h = await p.getHeader();
  if (h.maxZoom !== MAX_ZOOM || h.tileType !== 1) throw new Error('the header does not read back');
  const t = await p.getZxy(...sample);
  if (!t || !t.data.byteLength) throw new Error(`tile ${sample.join('/')} does not read back`);
}

async function main() {
  const out = process.argv[2];
  if (!out) { console.error('usage: node basemap.mjs OUT.pmtiles'); process.exit(2); }
  const idx = layers();
  const list = tiles(idx);
  const { entries, data, contents } = layout(list);
  const root = gzipSync(directory(entries), { level: 9 });
  if (127 + root.length > 16384) throw new Error(`the root directory is ${root.length} bytes: fewer zoom levels`);
  const meta = gzipSync(Buffer.from(JSON.stringify({ name: 'lienthong basemap',
    attribution: 'Natural Earth', vector_layers: ['earth', 'water', 'boundaries', 'places'].map((id) => ({ id })) })));
  const rootOff = 127, metaOff = rootOff + root.length, dataOff = metaOff + meta.length;
  const buf = Buffer.concat([header({ rootOff, rootLen: root.length, metaOff, metaLen: meta.length, dataOff,
    dataLen: data.length, addressed: list.length, entries: entries.length, contents }), root, meta, data]);
  await verify(buf, [10, tileX(105.68, 10), tileY(18.67, 10)]);
  writeFileSync(out, buf);
  console.log(`basemap: ${out}: ${list.length} tiles, ${contents} distinct, ${buf.length} bytes`);
}

main().catch((e) => { console.error(`basemap: ${e.message}`); process.exit(1); });
