// pages/admin.js - users and roles (GET/POST/PATCH/DELETE /api/v1/users),
// categories and deadlines (GET /api/v1/categories, PUT /api/v1/categories/
// {code}, top tiers only), node settings (tile server) and unit boundaries
// (PUT /api/v1/boundaries/{unit}, a GeoJSON file), the indicators pinned on
// the dashboards of this node's subtree (PUT /api/v1/indicators/{code}/pinned,
// an admin of a top-tier node), and on the trust root's node the tree changes
// (POST /api/v1/units: preview, then apply; GET /api/v1/units/ops).
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
  mount(box, h('div.row', h('h2.grow', t('users')),
    // the accounts of the list as CSV (GET /api/v1/users?format=csv)
    h('a.button.secondary', { id: 'export-csv', download: 'users.csv', href: '/api/v1/users?format=csv' }, t('export_csv'))),
  h('div.scroll', { tabindex: 0 }, h('table.grid.cards', { id: 'users' },
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

// Tree changes (move, merge, retire a tier, rename) on the root's node:
// a preview of what changes, then Apply; the operations done so far.
const unitOps = ['move', 'merge', 'retire-tier', 'rename'];
const opFields = { move: ['unit', 'parent'], merge: ['units', 'into', 'name', 'parent'],
  'retire-tier': ['tier'], rename: ['unit', 'name'] };

function changeLine(c) {
  const fields = Object.entries(c.set).map(([k, v]) =>
    `${k}: ${JSON.stringify(c.before[k] ?? null)} → ${JSON.stringify(v)}`);
  return h('li', h('b', c.code + (c.new ? ` (${t('unit_new')})` : '')), ' ', fields.join('; '));
}

async function treeOps(box) {
  const [units, { ops }] = await Promise.all([loadUnits(), api('units/ops')]);
  const msg = h('p', { role: 'status' }), plan = h('ul#unit-plan');
  const op = h('select', { name: 'unit-op', 'aria-label': t('unit_op') },
    unitOps.map((o) => h('option', { value: o }, t('unit_op_' + o.replace('-', '_')))));
  const inputs = Object.fromEntries(['unit', 'units', 'parent', 'into', 'name', 'tier'].map((f) =>
    [f, h('input', { name: `unit-op-${f}`, autocomplete: 'off', placeholder: t(`unit_f_${f}_hint`) })]));
  const labels = Object.fromEntries(Object.entries(inputs).map(([f, el]) => [f, h('label', t(`unit_f_${f}`), el)]));
  const show = () => Object.entries(labels).forEach(([f, l]) => { l.hidden = !opFields[op.value].includes(f); });
  op.onchange = () => { show(); plan.replaceChildren(); msg.textContent = ''; };
  const body = (yes) => Object.fromEntries([['op', op.value], ['yes', yes],
    ...opFields[op.value].map((f) => [f, inputs[f].value.trim()]).filter(([, v]) => v)]);
  const send = async (yes) => {
    try {
      const r = await api('units', { method: 'POST', body: body(yes) });
      plan.replaceChildren(...r.changes.map(changeLine));
      if (yes) { flash(msg, t('unit_applied')); await treeOps(box); } else flash(msg, t('unit_previewed'));
    } catch (x) { plan.replaceChildren(); flash(msg, x.text ?? x.message, true); }
  };
  mount(box, h('h2', t('unit_ops')), h('p.muted', t('unit_ops_note')),
    h('form.row#unit-op-form', { onsubmit: (e) => { e.preventDefault(); send(false); } },
      h('label', t('unit_op'), op), ...Object.values(labels),
      h('button', { type: 'submit' }, t('unit_preview')),
      h('button.secondary', { type: 'button', id: 'unit-apply',
        onclick: () => confirm(t('unit_apply_confirm')) && send(true) }, t('unit_apply'))),
    msg, plan,
    h('h3', t('unit_ops_done')),
    h('div.scroll', { tabindex: 0 }, h('table.grid#unit-ops', h('thead', h('tr',
      [t('unit_at'), t('unit_op'), t('unit_f_units'), t('unit_result'), t('unit_by')].map((x) => h('th', x)))),
    h('tbody', ops.map((o) => h('tr', h('td', o.at), h('td', t('unit_op_' + o.op.replace('-', '_'))),
      h('td', [...(o.units || [])].map((c) => unitName(units, c)).join(', ') || o.tier || ''),
      h('td', o.into ? unitName(units, o.into) : o.parent ? unitName(units, o.parent) : o.name || ''),
      h('td', o.by)))))));
  show();
}

export async function render(main) {
  const u = h('section.card'), c = h('section.card'), s = h('section.card');
  const p = h('section.card', { id: 'admin-ind-pins' });
  const units = await loadUnits();
  const root = units.get(session.node_unit)?.parent == null && units.has(session.node_unit);
  const o = h('section.card', { id: 'admin-unit-ops', hidden: !root });
  mount(main, h('h1', t('admin')), u, c, p, o, s);
  await Promise.all([users(u), categories(c), indicatorPins(p), settings(s), root ? treeOps(o) : null]);
  return null;
}
