// units.js - units by name, not code: the node's units (GET /api/v1/network,
// loaded once per page view), their names, whether one lies within another,
// and a searchable unit picker (Vietnamese folding: "to dan pho 3" finds
// "Tổ dân phố 3"). The picker resolves a typed name to its code before any
// request, so a name never reaches the API as a code.
import { h } from './dom.js';
import { t } from './i18n.js';
import { api } from './api.js';

let cache = null;
// Map code -> {code, name, parent, tier}; an empty map when the network cannot be read.
export function loadUnits() {
  cache = cache || api('network').then((n) => new Map((n.units || []).map((u) => [u.code, u])))
    .catch(() => new Map());
  return cache;
}
// Forgets the cache (after a login, the units seen may change).
export const forgetUnits = () => { cache = null; };

export const unitName = (units, code) => (code ? units.get(code)?.name || code : '');

// True when unit code is anc or lies below it.
export function within(units, code, anc) {
  for (let c = code, guard = 0; c && guard < 16; c = units.get(c)?.parent, guard++) if (c === anc) return true;
  return false;
}

// Lower case, no diacritics, đ as d: how names are compared.
export const fold = (s) => String(s || '').normalize('NFD').replace(/[\u0300-\u036f]/g, '')
  .replace(/[đĐ]/g, 'd').toLowerCase().trim();

// The code of what the user typed: a code, "Name (code)", or a name that
// matches one unit exactly (folded), else the only unit whose name contains it.
export function unitCode(units, typed) {
  const q = String(typed || '').trim();
  if (!q) return '';
  if (units.has(q)) return q;
  const m = q.match(/\(([^()]+)\)\s*$/);
  if (m && units.has(m[1])) return m[1];
  const f = fold(q), all = [...units.values()];
  const exact = all.filter((u) => fold(u.name) === f);
  if (exact.length === 1) return exact[0].code;
  const part = all.filter((u) => fold(u.name).includes(f));
  return part.length === 1 ? part[0].code : null;
}

let seq = 0;
// A labelled unit picker: a text field with suggestions (folded search).
// Returns { el, input, code() }: code() is the chosen unit's code, '' for
// none, or null (with the error shown beside the field) for a name that
// matches no unit.
export function unitPicker(units, { label = t('unit'), name = 'unit', value = '', filter } = {}) {
  const id = `unit-pick-${++seq}`;
  const list = [...units.values()].filter((u) => !filter || filter(u));
  const input = h('input', { name, id, list: `${id}-list`, autocomplete: 'off', 'data-unit-picker': '1',
    placeholder: t('unit_search'), value: value ? `${unitName(units, value)} (${value})` : '' });
  const options = h('datalist', { id: `${id}-list` });
  const err = h('span.error.field-error', { role: 'alert' });
  const suggest = () => {
    const f = fold(input.value.replace(/\([^()]*\)\s*$/, ''));
    const hits = list.filter((u) => !f || fold(u.name).includes(f) || u.code.includes(f)).slice(0, 30);
    options.replaceChildren(...hits.map((u) => h('option', { value: `${u.name || u.code} (${u.code})` })));
  };
  input.addEventListener('input', () => { err.textContent = ''; suggest(); });
  suggest();
  const el = h('label.unit-picker', { for: id }, label, input, options, err);
  return {
    el, input,
    code() {
      const c = unitCode(units, input.value);
      if (c === null) { err.textContent = t('unit_unknown', { q: input.value.trim() }); input.focus(); }
      return c;
    },
  };
}
