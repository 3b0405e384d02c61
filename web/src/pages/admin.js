// pages/admin.js - users and roles (GET/POST/PATCH/DELETE /api/v1/users),
// categories and deadlines (GET /api/v1/categories, PUT /api/v1/categories/
// {code}, top tiers only), node settings (tile server) and unit boundaries
// (PUT /api/v1/boundaries/{unit}, a GeoJSON file), the indicators pinned on
// the dashboards of this node's subtree (PUT /api/v1/indicators/{code}/pinned,
// an admin of a top-tier node).
import { h, mount } from '../dom.js';
import { t, getLang } from '../i18n.js';
import { api, session } from '../api.js';

const roles = ['viewer', 'staff', 'leader', 'admin'];
const roleSelect = (value, attrs = {}) => h('select', attrs,
  roles.map((r) => h('option', { value: r, selected: r === value }, t('role_' + r))));

function flash(el, msg, bad) {
  el.textContent = msg;
  el.className = bad ? 'error' : 'ok';
}

async function users(box) {
  const { users: list } = await api('users');
  const msg = h('p', { role: 'status' });
  const name = h('input', { name: 'new-user', placeholder: t('user'), required: true });
  const pw = h('input', { name: 'new-password', type: 'password', placeholder: t('password'),
    required: true, minlength: 8 });
  const unit = h('input', { name: 'new-unit', placeholder: t('unit'), value: session.node_unit });
  const role = roleSelect('staff', { name: 'new-role' });
  const run = async (p) => { try { await p; await users(box); } catch (e) { flash(msg, e.message, true); } };
  mount(box, h('h2', t('users')), h('div.scroll', h('table.grid', { id: 'users' },
    h('thead', h('tr', [t('user'), t('unit'), t('role'), t('disabled'), ''].map((x) => h('th', x)))),
    h('tbody', list.map((u) => h('tr', { 'data-user': u.user }, h('td', u.user), h('td', u.unit),
      h('td', roleSelect(u.role, { 'aria-label': t('role'), onchange: (e) => run(api(`users/${u.user}`,
        { method: 'PATCH', body: { role: e.target.value } })) })),
      h('td', h('input', { type: 'checkbox', checked: u.disabled, 'aria-label': t('disabled'),
        onchange: (e) => run(api(`users/${u.user}`, { method: 'PATCH', body: { disabled: e.target.checked } })) })),
      h('td', h('button.secondary', { onclick: () => confirm(`${t('delete')} ${u.user}?`) &&
        run(api(`users/${u.user}`, { method: 'DELETE' })) }, t('delete')))))))),
  h('form.row', { onsubmit: (e) => { e.preventDefault(); run(api('users', { method: 'POST',
    body: { user: name.value.trim(), password: pw.value, role: role.value, unit: unit.value.trim() } })); } },
  name, pw, unit, role, h('button', { type: 'submit' }, t('add'))), msg);
}

async function categories(box) {
  let list;
  try { list = (await api('categories?all=1')).categories || []; } catch (e) {
    mount(box, h('h2', t('categories')), h('p.error', e.message)); return;
  }
  const msg = h('p', { role: 'status' });
  mount(box, h('h2', t('categories')), h('div.scroll', h('table.grid', { id: 'categories' },
    h('thead', h('tr', [t('code'), t('name'), t('deadline_hours'), t('deadline_days'), t('active'), '']
      .map((x) => h('th', x)))),
    h('tbody', list.map((c) => {
      const nameVi = h('input', { value: c.name_vi || '', 'aria-label': t('name') });
      const hours = h('input', { type: 'number', min: 0, value: c.deadline_hours ?? '', class: 'short' });
      const days = h('input', { type: 'number', min: 0, value: c.deadline_days ?? '', class: 'short' });
      const active = h('input', { type: 'checkbox', checked: c.active !== false });
      return h('tr', h('td', h('code', c.code)), h('td', nameVi), h('td', hours), h('td', days),
        h('td', active), h('td', h('button', { onclick: async () => {
          const body = { ...c, name_vi: nameVi.value, active: active.checked };
          delete body.code;
          delete body.builtin;
          if (hours.value) { body.deadline_hours = +hours.value; delete body.deadline_days; }
          else if (days.value) { body.deadline_days = +days.value; delete body.deadline_hours; }
          try { await api(`categories/${c.code}`, { method: 'PUT', body }); flash(msg, t('done')); }
          catch (e) { flash(msg, e.message, true); }
        } }, t('save'))));
    })))), msg);
}

async function settings(box) {
  const s = await api('ui/settings');
  const msg = h('p', { role: 'status' });
  const tile = h('input', { name: 'tile_url', value: s.tile_url || '', placeholder: 'https://tiles.example/{z}/{x}/{y}.png' });
  const unit = h('input', { name: 'boundary-unit', placeholder: t('unit'), value: session.node_unit });
  const file = h('input', { type: 'file', name: 'boundary-file', accept: '.geojson,.json,application/geo+json' });
  mount(box, h('h2', t('settings')),
    h('form.row', { onsubmit: async (e) => { e.preventDefault();
      try { await api('ui/settings', { method: 'PUT', body: { tile_url: tile.value.trim() || null } });
        flash(msg, t('done')); } catch (x) { flash(msg, x.message, true); } } },
    h('label.wide', t('tile_url'), tile), h('button', { type: 'submit' }, t('save'))),
    h('form.row', { onsubmit: async (e) => { e.preventDefault();
      if (!file.files[0]) return;
      try {
        const r = await api(`boundaries/${encodeURIComponent(unit.value.trim())}`,
          { method: 'PUT', body: await file.files[0].text(), raw: true });
        flash(msg, `${t('done')}: ${r.features}`);
      } catch (x) { flash(msg, x.message, true); } } },
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
    h('div.scroll', h('table.grid', { id: 'ind-pins' },
      h('thead', h('tr', [t('code'), t('name'), t('ind_pinned')].map((x) => h('th', x)))),
      h('tbody', list.map((d) => h('tr', { 'data-indicator': d.code }, h('td', h('code', d.code)),
        h('td', name(d)), h('td', h('input', { type: 'checkbox', checked: !!d.pinned,
          'aria-label': `${t('ind_pinned')}: ${name(d)}`, onchange: async (e) => {
            try {
              await api(`indicators/${encodeURIComponent(d.code)}/pinned`,
                { method: 'PUT', body: { pinned: e.target.checked } });
              flash(msg, t('done'));
            } catch (x) { e.target.checked = !e.target.checked; flash(msg, x.message, true); }
          } }))))))), msg);
}

export async function render(main) {
  const u = h('section.card'), c = h('section.card'), s = h('section.card');
  const p = h('section.card', { id: 'admin-ind-pins' });
  mount(main, h('h1', t('admin')), u, c, p, s);
  await Promise.all([users(u), categories(c), indicatorPins(p), settings(s)]);
  return null;
}
