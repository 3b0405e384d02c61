// pages/network.js - the hierarchy as a tree with each node's state: this
// node's own links (online/offline, or connected but waiting: carrying only
// membership news, or waiting for a unit tree one side does not know yet,
// with the reason; since, backlog both ways, last error)
// from GET /api/v1/network, "last heard of" for nodes further away, and for
// admins the enrolment requests to approve and the quarantined entries.
// Refreshed on every link change pushed over the live WebSocket and every 5 s.
import { h, mount } from '../dom.js';
import { t, fmtNum, fmtAgo, fmtDateTime } from '../i18n.js';
import { api, live, roleAtLeast } from '../api.js';

// The state of unit u as this node sees it.
export function unitState(net, u) {
  if (u.code === net.unit) return { cls: 'online', text: t('this_node'), self: true };
  const link = net.sync.links.find((l) => l.peer_unit === u.code);
  const heard = Math.max(0, ...net.origins.filter((o) => o.unit === u.code).map((o) => o.last_ms));
  if (link?.connected && (link.mode === 'news_only' || link.waiting_for_tree)) {
    // connected but not syncing everything: a unit move has not reached one side
    return { cls: 'stalled', text: t(link.mode === 'news_only' ? 'news_only' : 'waiting_tree'),
      link, heard };
  }
  if (link && !link.connected && link.direction === 'up' &&
      net.sync.links.some((l) => l !== link && l.direction === 'up' && l.connected)) {
    // a further upstream (the grandparent) while the parent's link is open: not an outage
    return { cls: 'standby', text: t('standby'), link, heard, note: t('standby_note') };
  }
  if (link) {
    return { cls: link.connected ? 'online' : 'offline', text: t(link.connected ? 'online' : 'offline'),
      link, heard };
  }
  if (!heard) return { cls: 'none', text: '–', heard };
  const direct = u.parent === net.unit; // a child of this node: it links here when online
  return direct ? { cls: 'offline', text: t('offline'), heard }
    : { cls: 'far', text: t('via_parent'), heard };
}

function tree(net) {
  const kids = new Map();
  for (const u of net.units) {
    const p = net.units.some((x) => x.code === u.parent) ? u.parent : '';
    if (!kids.has(p)) kids.set(p, []);
    kids.get(p).push(u);
  }
  const row = (u, depth) => {
    const s = unitState(net, u);
    const l = s.link;
    return [h('tr', { 'data-unit': u.code, class: `st-${s.cls}` },
      h('td', { style: `padding-left:${0.5 + depth * 1.2}em` }, h('strong', u.name || u.code),
        h('small', ` ${u.code} · ${u.tier ? t('tier_' + u.tier) : ''}`)),
      h('td', h('span.badge', { class: s.cls, 'data-state': s.cls, title: s.note || null }, s.text),
        l ? h('small', ` ${t(l.direction === 'up' ? 'upstream' : 'downstream')} · ${t('ls_' + l.state)}`) : null),
      h('td', l ? fmtDateTime(Date.parse(l.last_exchange) || 0) : fmtAgo(s.heard)),
      h('td.num', l ? fmtNum(l.entries_to_send) : '–'),
      h('td.num', l ? fmtNum(l.entries_to_receive) : '–'),
      h('td.err', l?.waiting_reason || l?.last_error || '')),
    ...(kids.get(u.code) || []).map((k) => row(k, depth + 1))].flat();
  };
  return h('div.scroll', { tabindex: 0 }, h('table.grid', { id: 'net-tree' },
    h('thead', h('tr', h('th', t('unit')), h('th', t('state')), h('th', t('last_sync')),
      h('th.num', t('backlog_out')), h('th.num', t('backlog_in')), h('th', t('errors')))),
    h('tbody', (kids.get('') || []).map((u) => row(u, 0)))));
}

async function enrolments(box) {
  const r = await api('enrol/requests');
  const pending = r.requests.filter((q) => q.state === 'pending');
  const act = async (id, what) => {
    await api(`enrol/requests/${encodeURIComponent(id)}/${what}`, { method: 'POST',
      body: what === 'refuse' ? { reason: 'refused from the web UI' } : {} });
    enrolments(box);
  };
  mount(box, h('h2', t('enrolments')), pending.length ? h('table.grid', h('tbody', pending.map((q) =>
    h('tr', h('td', `${q.name} (${q.unit}, ${q.tier})`), h('td', h('code', q.fingerprint)),
      h('td', h('button', { onclick: () => act(q.id, 'approve') }, t('approve')), ' ',
        h('button.secondary', { onclick: () => act(q.id, 'refuse') }, t('refuse'))))))) : h('p', t('none')));
}

async function quarantine(box) {
  const q = await api('quarantine?limit=50');
  mount(box, h('h2', `${t('quarantine')} (${fmtNum(q.count)})`), q.entries.length
    ? h('div.scroll', { tabindex: 0 }, h('table.grid', h('tbody', q.entries.map((e) => h('tr', h('td', e.unit),
      h('td', `${e.coll}/${e.id}`), h('td', e.state), h('td', fmtDateTime(e.at_ms)), h('td.err', e.reason))))))
    : h('p', t('none')));
}

export async function render(main) {
  const treeBox = h('section.card');
  const admin = roleAtLeast('admin');
  const enrolBox = h('section.card'), quarBox = h('section.card');
  mount(main, h('h1', t('network')), treeBox, admin ? enrolBox : null, admin ? quarBox : null);
  const refresh = async () => {
    const net = await api('network');
    mount(treeBox, tree(net));
  };
  await refresh();
  if (admin) await Promise.all([enrolments(enrolBox), quarantine(quarBox)]);
  const onSync = () => refresh().catch(() => {});
  live.addEventListener('sync', onSync);
  const timer = setInterval(onSync, 5000);
  return () => { live.removeEventListener('sync', onSync); clearInterval(timer); };
}
