// The lobby playground's social side: the city you stand in (its settings, its quest circles and yours), friends,
// and player and city search. lobby.js owns the connection and the page state (`S`) and hands them over in
// initSocial; this file never imports it back. Text from the server goes in with textContent only (ui.js).
import { $, act, button, el, fill, onSubmit, system, tag } from './ui.js';

let C; // { S, applyMove, tellTo }
let myCircle = null; // the circle view (lobby.onCircle) while we are in one

export function initSocial(ctx) {
  C = ctx;
  wireForms();
}

export function resetSocial() {
  myCircle = null;
  renderMyCircle();
  $('city').hidden = true;
}

// ---- the city and its quest circles ----------------------------------------------------------------------------

/** Shows the city panel when we stand in a city (S.view.level === 'city'), hides it elsewhere. */
export function renderCity() {
  const v = C.S.view;
  const inCity = v?.level === 'city';
  $('city').hidden = !inCity;
  if (!inCity) {
    myCircle = null;
    renderMyCircle();
    return;
  }
  $('city-id').textContent = v.layer;
  renderSettings(v.settings, v.leaderId);
  renderCircles(v.circles ?? []);
}

function renderSettings(s, leaderId) {
  const leader = C.S.members.get(leaderId)?.name ?? leaderId ?? '';
  $('city-settings').textContent = `leader ${leader} · goal ${s.goal || '—'} · seeking ${s.seeking || '—'} · HR ${s.hrMin}–${s.hrMax}`;
  $('settings-form').hidden = leaderId !== C.S.me?.id;
}

function renderCircles(circles) {
  const items = circles.map((q) =>
    el(
      'li',
      { data: { id: q.id, state: q.state } },
      el('span', { class: 'grow' }, `${q.id} `, tag(q.state), ` ${q.goal || '(no goal)'} · led by ${q.leader}${q.locked ? ' · locked' : ''}`),
      el('span', { class: 'count' }, `${q.n} hunter(s)`),
      q.state === 'forming' && myCircle?.circle !== q.id ? button('Join', 'join', () => void act(() => join(q.id))) : undefined,
    ),
  );
  fill($('circles'), items, 'no quest circles yet');
}

async function join(circle) {
  const password = $('circle-password').value || undefined;
  setMyCircle(await C.S.lobby.request('lobby.circle.join', { circle, ...(password && { password }) }));
}

function setMyCircle(view) {
  myCircle = view;
  renderMyCircle();
}

function renderMyCircle() {
  $('my-circle').hidden = !myCircle;
  $('circle-form').hidden = !!myCircle;
  if (!myCircle) return;
  const me = C.S.me?.id;
  $('circle-id').textContent = `${myCircle.circle}${myCircle.goal ? ` (${myCircle.goal})` : ''}`;
  $('circle-state').textContent = myCircle.state;
  fill(
    $('circle-members'),
    // The leader departs whenever it likes: its own ready flag means nothing.
    myCircle.members.map((m) => el('li', { data: { id: m.id } }, `${m.name} · HR ${m.hr} · ${m.id === myCircle.leader ? 'leader' : m.ready ? 'ready' : 'not ready'}`)),
    'nobody',
  );
  const mine = myCircle.members.find((m) => m.id === me);
  const forming = myCircle.state === 'forming';
  $('ready').hidden = !forming || myCircle.leader === me;
  $('ready').textContent = mine?.ready ? 'Not ready' : 'Ready';
  $('depart').hidden = !forming || myCircle.leader !== me;
}

export function wireSocial(lobby) {
  lobby.on('lobby.onCircles', ({ layer, circles }) => {
    if (C.S.view?.layer === layer) renderCircles(circles);
  });
  lobby.on('lobby.onCircle', (view) => {
    const was = myCircle?.state;
    setMyCircle(view);
    if (view.state === 'departed' && was !== 'departed') system(`circle ${view.circle} departed on ${view.goal || 'its quest'}!`);
  });
  lobby.on('lobby.onCircleRemoved', ({ circle, reason }) => {
    if (myCircle?.circle === circle) setMyCircle(null);
    system(`you are out of circle ${circle} (${reason})`);
  });
  lobby.on('lobby.onCitySettings', ({ layer, settings }) => {
    if (C.S.view?.layer !== layer) return;
    C.S.view.settings = settings;
    renderSettings(settings, C.S.view.leaderId);
  });
  lobby.on('lobby.onLeader', ({ layer, leader, name }) => {
    if (C.S.view?.layer !== layer) return;
    C.S.view.leaderId = leader;
    renderSettings(C.S.view.settings, leader);
    system(`${name} leads the city now`);
  });
  lobby.on('lobby.onFriendRequest', ({ name }) => {
    system(`${name} asks to be your friend`);
    void refreshFriends();
  });
  lobby.on('lobby.onFriendAdded', ({ name }) => {
    system(`${name} is your friend now`);
    void refreshFriends();
  });
  lobby.on('lobby.onFriendRemoved', () => void refreshFriends());
}

// ---- friends and search ----------------------------------------------------------------------------------------

const where = (loc) => (loc && loc.length ? loc[loc.length - 1] : 'the lobby');

export async function refreshFriends() {
  const f = await C.S.lobby.request('lobby.friends');
  fill(
    $('friend-list'),
    f.friends.map((x) =>
      el(
        'li',
        { data: { id: x.id } },
        el('span', { class: 'grow' }, `${x.name} (${x.id}) `, x.online ? tag('online') : tag('offline', 'off'), x.online ? ` in ${where(x.loc)}` : ''),
        button('Tell', 'tell', () => C.tellTo(x.id)),
        button('Remove', 'remove', () => void act(async () => (await C.S.lobby.request('lobby.friends.delete', { id: x.id }), refreshFriends()))),
      ),
    ),
    f.sent.length ? `no friends yet (asked: ${f.sent.join(', ')})` : 'no friends yet',
  );
  fill(
    $('pending-list'),
    f.pending.map((x) =>
      el(
        'li',
        { data: { id: x.id } },
        el('span', { class: 'grow' }, `${x.name} (${x.id})`),
        button('Accept', 'accept', () => void act(async () => (await C.S.lobby.request('lobby.friends.accept', { from: x.id }), refreshFriends()))),
        button('Decline', 'decline', () => void act(async () => (await C.S.lobby.request('lobby.friends.decline', { from: x.id }), refreshFriends()))),
      ),
    ),
    'none',
  );
}

async function befriend(to) {
  const r = await C.S.lobby.request('lobby.friends.request', { to });
  system(r.accepted ? `you and ${to} are friends now` : r.already ? `${to} is your friend already` : `friend request sent to ${to}`);
  await refreshFriends();
}

function wireForms() {
  onSubmit('circle-form', async () => {
    const goal = $('circle-goal').value;
    const password = $('circle-password').value;
    setMyCircle(await C.S.lobby.request('lobby.circle.create', { ...(goal && { goal }), ...(password && { password }) }));
  });
  $('ready').addEventListener('click', () =>
    void act(async () => {
      const mine = myCircle?.members.find((m) => m.id === C.S.me?.id);
      setMyCircle(await C.S.lobby.request('lobby.circle.ready', { ready: !mine?.ready }));
    }),
  );
  $('depart').addEventListener('click', () => void act(async () => setMyCircle(await C.S.lobby.request('lobby.circle.depart'))));
  $('leave-circle').addEventListener('click', () =>
    void act(async () => {
      await C.S.lobby.request('lobby.circle.leave');
      setMyCircle(null);
    }),
  );
  onSubmit('settings-form', async () => {
    const s = C.S.view.settings;
    await C.S.lobby.request('lobby.city.settings', { settings: { ...s, goal: $('set-goal').value, seeking: $('set-seeking').value } });
  });
  onSubmit('friend-form', async () => {
    await befriend($('friend-id').value.trim().toUpperCase());
    $('friend-id').value = '';
  });
  onSubmit('player-search-form', async () => {
    const { hits, more } = await C.S.lobby.request('lobby.search.players', { q: $('player-q').value.trim() });
    const items = hits.map((h) =>
      el(
        'li',
        { data: { id: h.id } },
        el('span', { class: 'grow' }, `${h.name} (${h.id}) in ${where(h.loc)}${h.weapon ? ` · ${h.weapon}` : ''}`),
        h.id === C.S.me?.id ? undefined : button('Tell', 'tell', () => C.tellTo(h.id)),
        h.id === C.S.me?.id ? undefined : button('Add friend', 'befriend', () => void act(() => befriend(h.id))),
      ),
    );
    if (more) items.push(el('li', { class: 'hint' }, 'more players match: narrow the search'));
    fill($('player-hits'), items, 'nobody online matches');
  });
  onSubmit('city-search-form', async () => {
    const goal = $('city-goal').value.trim();
    const { hits } = await C.S.lobby.request('lobby.search.cities', { type: $('city-type').value, ...(goal && { goal }), hr: C.S.me?.hr ?? 0, joinable: true });
    fill(
      $('city-hits'),
      hits.map((h) =>
        el(
          'li',
          { data: { id: h.city } },
          el('span', { class: 'grow' }, `${h.city} · ${h.leader ?? ''} · ${h.settings?.goal || '(no goal)'}`),
          el('span', { class: 'count' }, `${h.n} hunter(s)`),
          button('Enter', 'enter', () => void act(async () => C.applyMove(await C.S.lobby.request('lobby.enter', { layer: h.city })))),
        ),
      ),
      'no open city matches',
    );
  });
}
