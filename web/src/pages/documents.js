// pages/documents.js - official documents and tasks (docs/documents.md):
// the incoming and outgoing boxes with search and filters, one document
// with its attachments, its signature check and the recipients' states
// (a recipient records its state, the issuer signs or recalls), the form
// to compose, sign and send, and the task list (assign, progress).
import { h, mount } from '../dom.js';
import { t, fmtDateTime, getLang } from '../i18n.js';
import { api, qs, session, roleAtLeast } from '../api.js';

const RECEIPTS = ['received', 'assigned', 'in_process', 'done', 'returned'];
const URGENCIES = ['thuong', 'khan', 'thuong_khan', 'hoa_toc'];
const enc = encodeURIComponent;
const badge = (s) => h('span.status', { class: `d-${s}`, 'data-status': s }, t('doc_st_' + s));
// A type's name: the translation of a default, else the name the network gave it.
const typeName = (x) => (t('doc_type_' + x.code) !== 'doc_type_' + x.code ? t('doc_type_' + x.code)
  : (getLang() === 'en' && x.name_en) || x.name_vi);
const activeTypes = async () => (await api('document-types')).types.filter((x) => x.active);
const docLink = (id) => h('a', { href: `#/documents/${enc(id)}` }, id);

async function boxes(main, query) {
  const f = Object.fromEntries(['box', 'q', 'status', 'type', 'overdue'].map((k) => [k, query.get(k) || '']));
  const box = f.box || 'in';
  const types = await activeTypes();
  const form = h('form.filters', { role: 'search', onsubmit: (e) => {
    e.preventDefault();
    const fd = Object.fromEntries(new FormData(form));
    fd.overdue = fd.overdue ? '1' : '';
    location.hash = `#/documents${qs({ ...fd, box })}`;
  } },
  h('input.wide', { name: 'q', type: 'search', value: f.q, placeholder: t('search'), 'aria-label': t('search') }),
  h('select', { name: 'type', 'aria-label': t('doc_type') }, h('option', { value: '' }, t('all')),
    types.map((x) => h('option', { value: x.code, selected: x.code === f.type }, typeName(x)))),
  h('select', { name: 'status', 'aria-label': t('status') }, h('option', { value: '' }, t('all')),
    ['sent', 'recalled', 'updated', 'replaced', ...RECEIPTS].map((s) => h('option', { value: s, selected: s === f.status }, t('doc_st_' + s)))),
  h('label', h('input', { type: 'checkbox', name: 'overdue', checked: f.overdue === '1' }), t('overdue')),
  h('button', { type: 'submit' }, t('filter')),
  // every matching document as CSV, the same filters (GET /api/v1/documents?format=csv)
  h('a.button.secondary', { id: 'export-csv', download: 'documents.csv',
    href: `/api/v1/documents${qs({ ...f, box, format: 'csv' })}` }, t('export_csv')));
  const r = await api(`documents${qs({ ...f, box, overdue: f.overdue })}`);
  const tab = (b) => h('a.button', { class: b === box ? '' : 'secondary', href: `#/documents${qs({ box: b })}`,
    'aria-current': b === box ? 'page' : null }, t('doc_box_' + b));
  mount(main, h('div.row', h('h1.grow', t('documents')), tab('in'), tab('out'),
    roleAtLeast('staff') ? h('a.button', { href: '#/documents/new', id: 'doc-new' }, t('doc_compose')) : null),
  form,
  h('div.card.scroll', { tabindex: 0 }, h('table.grid.cards#doc-list', h('thead', h('tr', [t('doc_notation'), t('doc_subject'),
    t('doc_from'), t('doc_date'), t('doc_due'), t('status')].map((x) => h('th', x)))),
  h('tbody', r.documents.map((d) => h('tr', { class: d.overdue ? 'overdue' : '' },
    h('td', h('a', { href: `#/documents/${enc(d.id)}` }, d.notation)),
    h('td', d.subject, d.urgency !== 'thuong' ? h('span.badge', ` ${t('doc_urg_' + d.urgency)}`) : null),
    h('td', d.unit_name || d.unit), h('td', d.date), h('td', d.due || '–'), h('td', badge(d.status)))))),
  r.documents.length ? null : h('p.muted', t('no_data'))));
}

function signatureCard(v) {
  if (!v.signed) return h('p.muted#doc-sig', { 'data-valid': 'unsigned' }, t('doc_unsigned'));
  return h('div#doc-sig', { class: v.valid ? 'ok' : 'error', 'data-valid': String(v.valid) },
    h('strong', v.valid ? `✔ ${t('doc_sig_valid')}` : `✘ ${t('doc_sig_invalid')}`),
    h('p', `${v.signer.user} · ${v.signer.position} · ${v.signer.unit} · ${fmtDateTime(v.at)}`),
    v.problems.length ? h('ul', v.problems.map((p) => h('li', p))) : null);
}

// A form posting bodyOf({field: value}) to path; reloads the page when done.
function actionForm(id, label, path, fields, bodyOf = (v) => v) {
  const err = h('p.error', { role: 'alert' });
  const form = h('form.row', { id, onsubmit: async (e) => {
    e.preventDefault();
    err.textContent = '';
    try {
      await api(path, { method: 'POST', body: bodyOf(Object.fromEntries(new FormData(form))) });
      window.dispatchEvent(new HashChangeEvent('hashchange'));
    } catch (x) { err.textContent = x.text ?? x.message; }
  } }, fields, h('button', { type: 'submit' }, label), err);
  return form;
}

// The links of an update or a replacement, both ways.
function linksCard(d) {
  const rows = [
    d.updates && [t('doc_updates'), docLink(d.updates)], d.replaces && [t('doc_replaces'), docLink(d.replaces)],
    d.updated_by && [t('doc_updated_by'), d.updated_by.map((x) => h('span', docLink(x), ' '))],
    d.replaced_by && [t('doc_replaced_by'), docLink(d.replaced_by)],
  ].filter(Boolean);
  return rows.length ? h('div.card#doc-links', h('dl', rows.map(([k, x]) => [h('dt', k), h('dd', x)]))) : null;
}

// A recipient group as people say it: "Tất cả xã của Nghệ An (130)".
const groupName = (g) => (g.tier === 'commune'
  ? t('doc_group_communes', { of: g.of_name || g.of, n: g.units.length })
  : `${t('doc_group', { tier: g.tier, of: g.of_name || g.of })} (${g.units.length})`);

// The recipients' lines: a group's folded under one summary (its name, the
// count of each state) that opens to list them, then the units named one
// by one; then the forms given (a receipt, the recall).
function recipientsCard(d, ...forms) {
  const row = (r) => h('tr', { 'data-unit': r.unit }, h('td', r.unit), h('td', badge(r.status)),
    h('td', r.at ? fmtDateTime(r.at) : ''), h('td', r.note || ''));
  const lines = new Map(d.recipients.map((r) => [r.unit, r]));
  const shown = new Set();
  const groups = (d.recipient_groups || []).map((g) => {
    const rows = g.units.filter((u) => lines.has(u) && !shown.has(u)).map((u) => (shown.add(u), lines.get(u)));
    const counts = new Map();
    rows.forEach((r) => counts.set(r.status, (counts.get(r.status) || 0) + 1));
    return h('details.doc-group', { 'data-spec': g.spec },
      h('summary', groupName(g), ' ', [...counts].map(([st, n]) => h('span', badge(st), ` ${n} `))),
      h('table.grid', h('tbody', rows.map(row))));
  });
  const rest = d.recipients.filter((r) => !shown.has(r.unit));
  return h('div.card', h('h2', t('doc_recipients')), h('div.scroll#doc-recipients', groups,
    rest.length ? h('table.grid', h('tbody', rest.map(row))) : null), forms);
}

async function one(main, id) {
  const d = await api(`documents/${enc(id)}`);
  const v = await api(`documents/${enc(id)}/verify`);
  const mine = d.unit === session.unit && d.source !== 'edxml';
  const recipient = d.recipients.some((r) => r.unit === session.unit);
  const live = d.status !== 'recalled';
  const current = live && d.status !== 'replaced';
  mount(main, h('h1', `${d.notation} · ${d.subject}`),
    h('div.cols', h('div',
      h('div.card', h('dl', [
        [t('doc_type'), t('doc_type_' + d.type)], [t('doc_from'), d.unit_name || d.unit],
        [t('doc_date'), `${d.place ? d.place + ', ' : ''}${d.date}`], [t('doc_due'), d.due || '–'],
        [t('doc_urgency'), t('doc_urg_' + d.urgency)], [t('status'), badge(d.status)],
        [t('doc_signer'), d.signer ? `${d.signer.name} (${d.signer.position})` : '–'],
      ].map(([k, x]) => [h('dt', k), h('dd', x)]))),
      d.status === 'recalled' ? h('p.error', `${t('doc_recalled')}: ${d.recall_reason}`) : null,
      linksCard(d),
      mine && current && roleAtLeast('staff') ? h('div.row',
        h('a.button.secondary#doc-update', { href: `#/documents/new${qs({ updates: id })}` }, t('doc_update')),
        h('a.button.secondary#doc-replace', { href: `#/documents/new${qs({ replaces: id })}` }, t('doc_replace'))) : null,
      h('p', { style: 'white-space: pre-wrap' }, d.body || ''),
      h('h2', t('doc_files')), h('ul.plain#doc-files', (d.files || []).map((f) => h('li',
        h('a', { href: `/api/v1/documents/${enc(id)}/files/${f.hash}`, download: f.name }, f.name),
        h('small', ` ${Math.ceil(f.size / 1024)} KiB`)))),
      h('p', h('a', { href: `/api/v1/documents/${enc(id)}/edxml` }, t('doc_edxml')))),
      h('div',
        h('div.card', h('h2', t('doc_signature')), signatureCard(v),
          mine && !d.signature && live ? actionForm('doc-sign', t('doc_sign'), `documents/${enc(id)}/sign`,
            h('label', t('doc_sign_password'), h('input', { name: 'password', type: 'password', required: true }))) : null),
        recipientsCard(d,
            recipient && live ? actionForm('doc-receipt', t('send'), `documents/${enc(id)}/receipts`, [
            h('select', { name: 'status', 'aria-label': t('status') }, RECEIPTS.map((s) => h('option', { value: s }, t('doc_st_' + s)))),
            h('input.wide', { name: 'note', placeholder: t('note'), 'aria-label': t('note') })]) : null,
          mine && live ? actionForm('doc-recall', t('doc_recall'), `documents/${enc(id)}/recall`,
            h('input.wide', { name: 'reason', required: true, placeholder: t('reason'), 'aria-label': t('reason') })) : null))));
}

async function compose(main, query) {
  const types = await activeTypes();
  const link = ['updates', 'replaces'].find((k) => query.get(k));
  const old = link ? await api(`documents/${enc(query.get(link))}`) : null; // its type, by default
  const err = h('p.error', { role: 'alert' });
  const files = h('input', { type: 'file', name: 'files', multiple: true, accept: '.pdf,.docx,.xlsx,.png,.jpg,.jpeg' });
  const form = h('form.card#doc-compose', { onsubmit: async (e) => {
    e.preventDefault();
    err.textContent = '';
    const f = Object.fromEntries(new FormData(form));
    const doc = { type: f.type, subject: f.subject, body: f.body, urgency: f.urgency, due: f.due || undefined,
      place: f.place || undefined, recipients: f.recipients.split(/[\s,;]+/).filter(Boolean) };
    if (link) doc[link] = query.get(link);
    if (link && !doc.recipients.length) delete doc.recipients; // the old document's
    const fd = new FormData();
    fd.append('document', JSON.stringify(doc));
    for (const x of files.files) fd.append('file', x, x.name);
    try {
      const r = await api('documents', { method: 'POST', body: fd, raw: true });
      if (f.password) await api(`documents/${enc(r.id)}/sign`, { method: 'POST', body: { password: f.password } });
      location.hash = `#/documents/${enc(r.id)}`;
    } catch (x) { err.textContent = x.text ?? x.message; }
  } },
  h('h1', t('doc_compose')),
  link ? h('p#doc-compose-link', t('doc_' + link), ' ', docLink(query.get(link))) : null,
  h('label', t('doc_type'), h('select', { name: 'type' }, types.map((x) => h('option', { value: x.code, selected: x.code === old?.type }, typeName(x))))),
  h('label', t('doc_subject'), h('input', { name: 'subject', required: true, maxlength: 1000 })),
  h('label', t('doc_body'), h('textarea', { name: 'body', rows: 8 })),
  h('label', t('doc_recipients_codes'), h('input', { name: 'recipients', required: !link, placeholder: '16681, 412*' })),
  h('div.row', h('label', t('doc_urgency'), h('select', { name: 'urgency' }, URGENCIES.map((u) => h('option', { value: u }, t('doc_urg_' + u))))),
    h('label', t('doc_due'), h('input', { name: 'due', type: 'date' })),
    h('label', t('doc_place'), h('input', { name: 'place' }))),
  h('label', t('doc_files'), files),
  h('label', t('doc_sign_password'), h('input', { name: 'password', type: 'password', autocomplete: 'off' })),
  h('p.muted', t('doc_sign_hint')),
  h('button', { type: 'submit' }, t('doc_send')), err);
  mount(main, form);
}

async function tasks(main, query) {
  const overdue = query.get('overdue') === '1';
  const r = await api(`tasks${qs({ overdue: overdue ? '1' : '' })}`);
  const assign = roleAtLeast('leader') ? actionForm('task-new', t('task_assign'), 'tasks', [
    h('input.wide', { name: 'title', required: true, placeholder: t('task_title'), 'aria-label': t('task_title') }),
    h('input', { name: 'assignees', required: true, placeholder: '16681, 16684', 'aria-label': t('task_assignees') }),
    h('input', { name: 'due', type: 'date', required: true, 'aria-label': t('doc_due') })],
  (f) => ({ ...f, assignees: f.assignees.split(/[\s,;]+/).filter(Boolean) })) : null;
  mount(main, h('div.row', h('h1.grow', t('tasks')),
    h('a.button', { class: overdue ? '' : 'secondary', href: overdue ? '#/tasks' : '#/tasks?overdue=1' }, t('overdue')),
    // every task of the list as CSV, the same filter (GET /api/v1/tasks?format=csv)
    h('a.button.secondary', { id: 'export-csv', download: 'tasks.csv',
      href: `/api/v1/tasks${qs({ overdue: overdue ? '1' : '', format: 'csv' })}` }, t('export_csv'))),
  assign,
  h('div.card.scroll', { tabindex: 0 }, h('table.grid.cards#task-list', h('thead', h('tr', [t('task_title'), t('unit'), t('doc_due'), t('task_progress')].map((x) => h('th', x)))),
    h('tbody', r.tasks.map((x) => h('tr', { class: x.overdue ? 'overdue' : '', 'data-task': x.id },
      h('td', x.title, x.doc ? h('small', ' · ', h('a', { href: `#/documents/${enc(x.doc)}` }, x.doc)) : null),
      h('td', x.unit), h('td', x.due),
      h('td', x.progress.map((p) => h('div', `${p.unit}: ${p.done ? '✔' : `${p.percent} %`}`)),
        x.assignees.includes(session.unit) && !x.done ? actionForm(`task-progress-${x.id}`, t('send'), `tasks/${enc(x.id)}/progress`, [
          h('input.short', { name: 'percent', type: 'number', min: 0, max: 100, 'aria-label': t('task_progress') }),
          h('input', { name: 'note', placeholder: t('note'), 'aria-label': t('note') })],
        (v) => ({ percent: Number(v.percent || 0), note: v.note, done: Number(v.percent) === 100 })) : null))))),
  r.tasks.length ? null : h('p.muted', t('no_data'))));
}

export async function render(main, { parts, query, page }) {
  if (page === 'tasks') return tasks(main, query);
  if (parts[1] === 'new') return compose(main, query);
  if (parts[1]) return one(main, parts[1]);
  return boxes(main, query);
}
