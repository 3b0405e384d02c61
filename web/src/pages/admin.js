// pages/admin.js - users and roles (GET/POST/PATCH/DELETE /api/v1/users),
// categories and deadlines (GET /api/v1/categories, PUT /api/v1/categories/
// {code}, top tiers only), node settings (tile server) and unit boundaries
// (PUT /api/v1/boundaries/{unit}, a GeoJSON file), the indicators pinned on
// the dashboards of this node's subtree (PUT /api/v1/indicators/{code}/pinned,
// an admin of a top-tier node).
import { h, mount } from '../dom.js';
import { t, getLang, fmtNum } from '../i18n.js';
import { api, session } from '../api.js';
import { loadUnits, unitName, unitPicker, within } from '../units.js';

const roles = ['viewer', 'staff', 'leader', 'admin'];
const roleSelect = (value, attrs = {}) => h('select', attrs,
  roles.map((r) => h('option', { value: r, selected: r === value }, t('role_' + r))));

function flash(el, msg, bad) {
  el.textContent = msg;
  el.className = bad ? 'error' : 'ok';
}

async function users(box) {
  const [{ users: list }, units] = await Promise.all([api('users'), loadUnits()]);
  const msg = h('p', { role: 'status' });
  const name = h('input', { name: 'new-user', required: true, autocomplete: 'off' });
  const pw = h('input', { name: 'new-password', type: 'password', required: true, minlength: 8,
    autocomplete: 'new-password' });
  const unit = unitPicker(units, { name: 'new-unit', value: session.node_unit,
    filter: (u) => within(units, u.code, session.node_unit) });
  const role = roleSelect('staff', { name: 'new-role' });
  const run = async (p) => { try { await p; await users(box); } catch (e) { flash(msg, e.text ?? e.message, true); } };
  mount(box, h('h2', t('users')), h('div.scroll', { tabindex: 0 }, h('table.grid.cards', { id: 'users' },
    h('thead', h('tr', [t('user'), t('unit'), t('role'), t('disabled'), ''].map((x) => h('th', x)))),
    h('tbody', list.map((u) => h('tr', { 'data-user': u.user }, h('td', u.user), h('td', unitName(units, u.unit)),
      h('td', roleSelect(u.role, { 'aria-label': t('role'), onchange: (e) => run(api(`users/${u.user}`,
        { method: 'PATCH', body: { role: e.target.value } })) })),
      h('td', h('input', { type: 'checkbox', checked: u.disabled, 'aria-label': t('disabled'),
        onchange: (e) => run(api(`users/${u.user}`, { method: 'PATCH', body: { disabled: e.target.checked } })) })),
      h('td', h('button.secondary', { onclick: () => confirm(`${t('delete')} ${u.user}?`) &&
        run(api(`users/${u.user}`, { method: 'DELETE' })) }, t('delete')))))))),
  h('form.row', { onsubmit: (e) => { e.preventDefault();
    const code = unit.code();
    if (code === null) return;
    run(api('users', { method: 'POST',
      body: { user: name.value.trim(), password: pw.value, role: role.value, unit: code || session.node_unit } })); } },
  h('label', t('user'), name), h('label', t('password'), pw), unit.el, h('label', t('role'), role),
  h('button', { type: 'submit' }, t('add'))), msg);
}

// The categories; editable only where the node accepts the change (an
// admin of a top-tier node: the answer's "editable"), else a read-only table.
async function categories(box) {
  let list, editable;
  try { ({ categories: list = [], editable } = await api('categories?all=1')); } catch (e) {
    mount(box, h('h2', t('categories')), h('p.error', e.text ?? e.message)); return;
  }
  if (!editable) {
    const deadline = (c) => (c.deadline_hours != null ? `${fmtNum(c.deadline_hours)} ${t('hours')}`
      : `${fmtNum(c.deadline_days)} ${t('deadline_days').toLowerCase()}`);
    mount(box, h('h2', t('categories')), h('p.muted#categories-readonly', t('categories_top_only')),
      h('div.scroll', { tabindex: 0 }, h('table.grid', { id: 'categories' },
        h('thead', h('tr', [t('code'), t('name'), t('deadline'), t('active')].map((x) => h('th', x)))),
        h('tbody', list.map((c) => h('tr', h('td', h('code', c.code)), h('td', c.name_vi || ''),
          h('td', deadline(c)), h('td', c.active !== false ? '✓' : '–')))))));
    return;
  }
  const msg = h('p', { role: 'status' });
  mount(box, h('h2', t('categories')), h('div.scroll', { tabindex: 0 }, h('table.grid', { id: 'categories' },
    h('thead', h('tr', [t('code'), t('name'), t('deadline_hours'), t('deadline_days'), t('active'), '']
      .map((x) => h('th', x)))),
    h('tbody', list.map((c) => {
      const nameVi = h('input', { value: c.name_vi || '', 'aria-label': `${t('name')}: ${c.code}` });
      const hours = h('input', { type: 'number', min: 0, value: c.deadline_hours ?? '', class: 'short',
        'aria-label': `${t('deadline_hours')}: ${c.code}` });
      const days = h('input', { type: 'number', min: 0, value: c.deadline_days ?? '', class: 'short',
        'aria-label': `${t('deadline_days')}: ${c.code}` });
      const active = h('input', { type: 'checkbox', checked: c.active !== false, 'aria-label': `${t('active')}: ${c.code}` });
      return h('tr', h('td', h('code', c.code)), h('td', nameVi), h('td', hours), h('td', days),
        h('td', active), h('td', h('button', { onclick: async () => {
          const body = { ...c, name_vi: nameVi.value, active: active.checked };
          delete body.code;
          delete body.builtin;
          if (hours.value) { body.deadline_hours = +hours.value; delete body.deadline_days; }
          else if (days.value) { body.deadline_days = +days.value; delete body.deadline_hours; }
          try { await api(`categories/${c.code}`, { method: 'PUT', body }); flash(msg, t('done')); }
          catch (e) { flash(msg, e.text ?? e.message, true); }
        } }, t('save'))));
    })))), msg);
}

async function settings(box) {
  const s = await api('ui/settings');
  const msg = h('p', { role: 'status' });
  const tile = h('input', { name: 'tile_url', value: s.tile_url || '', placeholder: 'https://…/{z}/{x}/{y}.png' });
  const unit = h('input', { name: 'boundary-unit', value: session.node_unit, 'aria-label': t('unit') });
  const file = h('input', { type: 'file', name: 'boundary-file', accept: '.geojson,.json,application/geo+json' });
  mount(box, h('h2', t('settings')),
    h('form.row', { onsubmit: async (e) => { e.preventDefault();
      try { await api('ui/settings', { method: 'PUT', body: { tile_url: tile.value.trim() || null } });
        flash(msg, t('done')); } catch (x) { flash(msg, x.text ?? x.message, true); } } },
    h('label.wide', t('tile_url'), tile), h('button', { type: 'submit' }, t('save'))),
    h('form.row', { onsubmit: async (e) => { e.preventDefault();
      if (!file.files[0]) return;
      try {
        const r = await api(`boundaries/${encodeURIComponent(unit.value.trim())}`,
          { method: 'PUT', body: await file.files[0].text(), raw: true });
        flash(msg, `${t('done')}: ${r.features}`);
      } catch (x) { flash(msg, x.text ?? x.message, true); } } },
    h('label', t('boundaries'), file), unit, h('button', { type: 'submit' }, t('upload'))), msg);
}

async function indicatorPins(box) {
  let list;
  try { list = ((await api('indicators')).indicators || []).filter((d) => !d.live); } catch (e) {
    mount(box, h('h2', t('ind_pins')), h('p.error', e.message)); return;
  }
  const msg = h('p', { role: 'status' });
  const name = (d) => (getLang() === 'en' && d.name_en) || d.name_vi || d.code;
  mount(box, h('h2', t('ind_pins')), h('p.muted', t('ind_pins_note')),
    h('div.scroll', { tabindex: 0 }, h('table.grid', { id: 'ind-pins' },
      h('thead', h('tr', [t('code'), t('name'), t('ind_pinned')].map((x) => h('th', x)))),
      h('tbody', list.map((d) => h('tr', { 'data-indicator': d.code }, h('td', h('code', d.code)),
        h('td', name(d)), h('td', h('input', { type: 'checkbox', checked: !!d.pinned,
          'aria-label': `${t('ind_pinned')}: ${name(d)}`, onchange: async (e) => {
            try {
              await api(`indicators/${encodeURIComponent(d.code)}/pinned`,
                { method: 'PUT', body: { pinned: e.target.checked } });
              flash(msg, t('done'));
            } catch (x) { e.target.checked = !e.target.checked; flash(msg, x.text ?? x.message, true); }
          } }))))))), msg);
}

export async function render(main) {
  const u = h('section.card'), c = h('section.card'), s = h('section.card');
  const p = h('section.card', { id: 'admin-ind-pins' });
  mount(main, h('h1', t('admin')), u, c, p, s);
  await Promise.all([users(u), categories(c), indicatorPins(p), settings(s)]);
  return null;
}
