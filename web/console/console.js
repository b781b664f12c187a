// gatehouse operator console: plain JS, no build step. Everything is pushed by the node over server-sent events
// (/console/events: the cluster; /console/actor/events: one actor's transitions); nothing is polled.
'use strict';
const $ = (s) => document.querySelector(s);
const el = (tag, attrs = {}, ...kids) => {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'style') e.style.cssText = v;
    else if (k.startsWith('data-') || k === 'class' || k === 'title' || k === 'value') e.setAttribute(k, v);
    else e[k] = v;
  }
  for (const k of kids) e.append(k);
  return e;
};
const PALETTE = ['#3b82f6', '#f59e0b', '#10b981', '#ef4444', '#8b5cf6', '#ec4899', '#14b8a6', '#84cc16', '#f97316', '#6366f1'];
const colours = new Map();
const colourOf = (node) => {
  if (!colours.has(node)) colours.set(node, PALETTE[colours.size % PALETTE.length]);
  return colours.get(node);
};

const state = { nodes: [], leases: {}, leader: null, shards: 0, kinds: [], moves: [] };

function nodeState(id) {
  const n = state.nodes.find((x) => x.id === id);
  return n ? n.state : 'dead';
}

function renderNodes() {
  const box = $('#nodes');
  box.replaceChildren(
    ...state.nodes.map((n) => {
      const b = n.beat || {};
      const perKind = Object.entries(b.perKind || {}).filter(([, c]) => c > 0).map(([k, c]) => `${k} ${c}`).join(', ') || '—';
      return el(
        'div',
        { class: 'node', 'data-node': n.id, 'data-state': n.state, style: `--c:${colourOf(n.id)}` },
        el('h3', {}, el('span', { class: 'swatch' }), n.id, el('span', { class: 'state' }, n.state), ...(n.id === state.leader ? [el('span', { class: 'leader' }, 'leader')] : [])),
        el(
          'dl',
          {},
          el('dt', {}, 'roles'), el('dd', {}, n.record.roles.join(', ')),
          el('dt', {}, 'capacity'), el('dd', {}, String(n.record.capacity)),
          el('dt', {}, 'CPU'), el('dd', { 'data-field': 'cpu' }, b.cpu === undefined ? '…' : `${b.cpu}%`),
          el('dt', {}, 'msg/s'), el('dd', { 'data-field': 'rate' }, String(b.msgsPerSec ?? n.record.load.msgsPerSec)),
          el('dt', {}, 'actors'), el('dd', { 'data-field': 'actors' }, String(b.actors ?? n.record.load.actors)),
          el('dt', {}, 'shards'), el('dd', { 'data-field': 'shards' }, String(shardCount(n.id))),
        ),
        el('div', { class: 'perkind', title: 'live actors per kind' }, perKind),
      );
    }),
  );
  $('#leader').textContent = state.leader || 'none';
}

function shardCount(node) {
  let c = 0;
  for (const l of Object.values(state.leases)) if (l[0] === node) c++;
  return c;
}

function renderShards() {
  const byKind = new Map();
  for (const [key, l] of Object.entries(state.leases)) {
    const dot = key.lastIndexOf('.');
    const kind = key.slice(0, dot);
    if (!byKind.has(kind)) byKind.set(kind, []);
    byKind.get(kind)[Number(key.slice(dot + 1))] = l;
  }
  const rows = [...byKind.keys()].sort().map((kind) => {
    const cells = [];
    const leases = byKind.get(kind);
    for (let s = 0; s < Math.max(state.shards, leases.length); s++) {
      const l = leases[s];
      const owner = l ? l[0] : '';
      cells.push(
        el('span', {
          class: 'cell',
          'data-shard': `${kind}.${s}`,
          'data-owner': owner,
          'data-state': l ? l[1] : 'none',
          'data-dead': String(!!l && ['dead', 'left'].includes(nodeState(owner))),
          title: l ? `${kind}:${s} on ${owner}${l[1] === 'moving' ? ` → ${l[2]}` : ''}` : `${kind}:${s} unassigned`,
          style: owner ? `--c:${colourOf(owner)}` : '',
          onclick: () => openMove(kind, s),
        }),
      );
    }
    return el('div', { class: 'kindrow', 'data-kind': kind }, el('span', { class: 'label' }, kind), el('span', { class: 'grid' }, ...cells));
  });
  $('#shards').replaceChildren(...rows);
}

function renderMoves() {
  $('#moves').replaceChildren(
    ...state.moves.slice(-30).reverse().map((m) => el('li', { 'data-key': m.key, 'data-phase': m.phase }, `${new Date(m.at).toLocaleTimeString()} ${m.key}: ${m.from} → ${m.to} ${m.phase === 'moving' ? '(moving)' : '(landed)'}`)),
  );
}

function onLease(key, lease) {
  const prev = state.leases[key];
  if (lease) state.leases[key] = lease;
  else delete state.leases[key];
  if (lease && lease[1] === 'moving' && (!prev || prev[1] !== 'moving')) state.moves.push({ key, from: lease[0], to: lease[2], phase: 'moving', at: Date.now() });
  if (lease && lease[1] === 'owned' && prev && prev[0] !== lease[0]) {
    const m = [...state.moves].reverse().find((x) => x.key === key && x.phase === 'moving');
    if (m) Object.assign(m, { phase: 'landed', to: lease[0], at: Date.now() });
    else state.moves.push({ key, from: prev[0], to: lease[0], phase: 'landed', at: Date.now() });
  }
  if (state.moves.length > 500) state.moves.splice(0, state.moves.length - 500);
}

// Apps' views: every node's beat carries kind → id → count for the actors that took turns; the latest wins.
function appCounts(kind) {
  const out = {};
  for (const n of state.nodes) if (n.state === 'up' || n.state === 'draining') Object.assign(out, ((n.beat || {}).apps || {})[kind] || {});
  return out;
}
function renderApps() {
  const rooms = Object.entries(appCounts('chat-room')).filter(([, c]) => c > 0).sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
  $('#rooms').replaceChildren(...(rooms.length ? rooms.map(([id, c]) => el('li', { 'data-room': id }, `${id} `, el('span', { class: 'n' }, `${c} members`))) : [el('li', {}, '—')]));
  const servers = appCounts('lobby-server');
  const gates = appCounts('lobby-gate');
  const cities = appCounts('lobby-city');
  const kids = (parent, of) => Object.keys(of).filter((id) => id.startsWith(parent + '-') && id.split('-').length === parent.split('-').length + 1 && of[id] > 0).sort();
  const ids = [...new Set([...Object.keys(servers), ...Object.keys(gates).map((g) => g.split('-')[0]), ...Object.keys(cities).map((c) => c.split('-')[0])])].sort();
  const tree = ids.map((s) =>
    el('li', { 'data-layer': s }, `${s} `, el('span', { class: 'n' }, `${servers[s] ?? '?'} players`),
      el('ul', {}, ...[...new Set([...kids(s, gates), ...Object.keys(cities).filter((c) => c.startsWith(s + '-')).map((c) => c.split('-').slice(0, 2).join('-'))])].sort().map((g) =>
        el('li', { 'data-layer': g }, `${g} `, el('span', { class: 'n' }, `${gates[g] ?? '?'}`),
          el('ul', {}, ...kids(g, cities).map((c) => el('li', { 'data-layer': c }, `${c} `, el('span', { class: 'n' }, `${cities[c]}`)))))))));
  $('#lobby').replaceChildren(...(tree.length ? tree : [el('li', {}, '—')]));
}

let renderQueued = false;
function render() {
  if (renderQueued) return;
  renderQueued = true;
  requestAnimationFrame(() => {
    renderQueued = false;
    renderNodes();
    renderShards();
    renderMoves();
    renderApps();
  });
}

function connect() {
  const es = new EventSource('/console/events');
  const conn = $('#conn');
  es.onopen = () => Object.assign(conn, { textContent: 'live' }) && conn.setAttribute('data-state', 'open');
  es.onerror = () => Object.assign(conn, { textContent: 'reconnecting…' }) && conn.setAttribute('data-state', 'closed');
  es.addEventListener('snapshot', (e) => {
    const s = JSON.parse(e.data);
    Object.assign(state, { nodes: s.nodes, leases: s.leases, leader: s.leader, shards: s.shards, kinds: s.kinds });
    $('#self').textContent = s.self;
    const kind = $('#kind');
    if (!kind.options.length) kind.replaceChildren(...s.kinds.map((k) => el('option', { value: k }, k)));
    render();
  });
  es.addEventListener('nodes', (e) => {
    state.nodes = JSON.parse(e.data);
    render();
  });
  es.addEventListener('lease', (e) => {
    const { key, lease } = JSON.parse(e.data);
    onLease(key, lease);
    render();
  });
  es.addEventListener('leader', (e) => {
    state.leader = JSON.parse(e.data);
    render();
  });
}

// Moving a shard: a dialog names the shard and the target; the POST carries the shard as its confirmation.
let moving = null;
function openMove(kind, shard) {
  const key = `${kind}.${shard}`;
  const l = state.leases[key];
  const targets = state.nodes.filter((n) => n.state === 'up' && n.record.roles.includes('worker') && (!l || n.id !== l[0]));
  if (!targets.length) return alert('no other live worker to move it to');
  moving = { kind, shard, key };
  $('#move-key').textContent = `${kind}:${shard}`;
  $('#move-from').textContent = l ? l[0] : 'nobody';
  $('#move-to').replaceChildren(...targets.map((n) => el('option', { value: n.id }, n.id)));
  $('#move-dialog').showModal();
}
$('#move-dialog').addEventListener('close', async () => {
  if ($('#move-dialog').returnValue !== 'ok' || !moving) return;
  const m = moving;
  moving = null;
  const res = await fetch('/console/move', { method: 'POST', headers: { 'content-type': 'application/json', 'x-gatehouse-confirm': m.key }, body: JSON.stringify({ kind: m.kind, shard: m.shard, to: $('#move-to').value }) });
  if (!res.ok) alert(`move refused: ${(await res.json()).message}`);
});

// The actor browser.
let actorStream = null;
let current = null;
$('#find').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const kind = $('#kind').value;
  const id = $('#actor-id').value.trim();
  if (!id) return;
  current = { kind, id };
  const res = await fetch(`/console/actor?kind=${encodeURIComponent(kind)}&id=${encodeURIComponent(id)}`);
  const body = await res.json();
  $('#actor-view').hidden = false;
  if (!res.ok) {
    $('#actor-where').textContent = `${kind}/${id}: ${body.code} ${body.message}`;
    $('#actor-state').textContent = '';
  } else {
    const v = body.view;
    current.shard = body.shard;
    $('#actor-where').textContent = `${kind}/${id} · shard ${kind}:${body.shard} · owner ${body.lease ? body.lease.o : v.node} · ${v.status} · mailbox ${v.mailbox} · timers ${v.timers}${body.redacted.length ? ` · redacted: ${body.redacted.join(', ')}` : ''}`;
    $('#actor-state').textContent = JSON.stringify({ value: v.value, context: v.context }, null, 2);
  }
  $('#actor-stream').replaceChildren();
  actorStream?.close();
  actorStream = new EventSource(`/console/actor/events?kind=${encodeURIComponent(kind)}&id=${encodeURIComponent(id)}`);
  const line = (attrs, text) => {
    const list = $('#actor-stream');
    list.append(el('li', attrs, text));
    while (list.children.length > 200) list.firstChild.remove();
    list.scrollTop = list.scrollHeight;
  };
  actorStream.addEventListener('transition', (e) => {
    const t = JSON.parse(e.data);
    line({ 'data-event': t.event, class: 'transition' }, `${new Date(t.at).toLocaleTimeString()} [${t.node}] ${t.event}: ${JSON.stringify(t.from)} → ${JSON.stringify(t.to)}`);
  });
  actorStream.addEventListener('message', (e) => {
    const m = JSON.parse(e.data);
    line({ 'data-event': m.label, class: 'message' }, `${new Date(m.at).toLocaleTimeString()} [${m.node}] ${m.events.map((x) => JSON.stringify(x)).join(' ')}`);
  });
});
$('#actor-move').addEventListener('click', () => current && current.shard !== undefined && openMove(current.kind, current.shard));
$('#actor-record').addEventListener('click', async () => {
  if (!current) return;
  const res = await fetch('/console/record', { method: 'POST', headers: { 'content-type': 'application/json', 'x-gatehouse-confirm': 'record' }, body: JSON.stringify({ kind: current.kind, id: current.id, seconds: 60 }) });
  const body = await res.json();
  if (!res.ok) return alert(`recording refused: ${body.message}`);
  const a = $('#actor-download');
  a.href = `/console/record/${body.recording}?download`;
  a.textContent = 'stop and download the recording';
  a.hidden = false;
});

connect();
