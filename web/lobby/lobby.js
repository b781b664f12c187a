// The lobby playground: the game lobby through the browser SDK (/sdk/gatehouse.js, typed as LobbyRoutes and
// LobbyPushes in client/lobby-api.ts), on the gateway the entry endpoint picks. This file: the connection, logging in,
// browsing the tree with live counts, moving, and chat where you stand. social.js: the city, quest circles, friends
// and search. Plain DOM, no build step; text from the server goes in with textContent only (ui.js).
import { connect, lobbyClient } from '/sdk/gatehouse.js';
import { $, act, button, count, el, line, onSubmit, patch, setStatus, showError, system, tag } from './ui.js';
import { initSocial, renderCity, wireSocial, refreshFriends, resetSocial } from './social.js';

// The session ticket survives a reload of this tab, so a reload resumes the session (and the hunter's place).
const TICKET = 'gatehouse.lobby.ticket';
const REFRESH_MS = 2000;

/** What the page knows; social.js reads and updates it too. */
export const S = {
  gh: undefined,
  lobby: undefined,
  token: undefined,
  me: undefined, // {id, name, hr}
  loc: [],
  view: undefined, // the layer view where we stand
  members: new Map(), // id → {name, hr}
  browsing: '', // '' = servers, 's01' = its gates, 's01-g02' = its cities
  reserved: null,
  poll: undefined,
};

const here = () => S.loc[S.loc.length - 1] ?? '';

// ---- connection and login ------------------------------------------------------------------------------------

async function open(token) {
  const old = S.gh;
  S.gh = undefined;
  if (old) await old.close();
  S.token = token || undefined;
  S.gh = await connect({ entry: '/entry', ticket: sessionStorage.getItem(TICKET) ?? undefined, client: 'web-lobby', token: S.token });
  S.lobby = lobbyClient(S.gh);
  sessionStorage.setItem(TICKET, S.gh.ticket);
  wirePushes();
  S.gh.onEvent('open', ({ resumed }) => {
    sessionStorage.setItem(TICKET, S.gh.ticket);
    setStatus('connected', true);
    if (!resumed && S.me) {
      loggedOut();
      showError({ code: 'SESSION_EXPIRED', message: 'the session was lost; log in again' });
    }
  });
  S.gh.onEvent('disconnect', ({ reconnecting }) => setStatus(reconnecting ? 'reconnecting…' : 'disconnected'));
  setStatus('connected', true);
}

async function login() {
  const token = $('token').value.trim();
  // A token is sent when the connection opens (hello): a new one needs a new connection.
  if (!S.gh || (token || undefined) !== S.token) {
    sessionStorage.removeItem(TICKET);
    await open(token);
  }
  const body = { capcomId: $('capcom-id').value.trim().toUpperCase(), name: $('name').value.trim(), hr: Number($('hr').value) };
  if ($('weapon').value) body.weapon = $('weapon').value;
  loggedIn(await S.lobby.request('lobby.login', body));
}

async function loggedIn(rec) {
  S.me = { id: rec.id, name: rec.name, hr: rec.hr };
  $('me').textContent = `${rec.name} (${rec.id}) HR ${rec.hr}${rec.weapon ? ` · ${rec.weapon}` : ''}`;
  $('login-form').hidden = true;
  $('app').hidden = false;
  $('logout').hidden = false;
  $('send').disabled = false;
  $('log').replaceChildren();
  S.loc = rec.loc;
  if (S.loc.length) applyView(await S.lobby.request('lobby.layer', {}));
  else applyView(undefined);
  browse(S.loc.length >= 2 ? S.loc[1] : S.loc[0] ?? '');
  system(`logged in as ${rec.name}`);
  await refreshFriends();
  clearInterval(S.poll);
  S.poll = setInterval(() => void refreshBrowse(), REFRESH_MS);
}

function loggedOut() {
  clearInterval(S.poll);
  S.me = undefined;
  S.loc = [];
  S.reserved = null;
  resetSocial();
  $('app').hidden = true;
  $('logout').hidden = true;
  $('login-form').hidden = false;
  $('me').textContent = '';
}

// ---- where we stand --------------------------------------------------------------------------------------------

/** Shows the layer we stand in (or the top of the lobby when `view` is undefined). */
export function applyView(view) {
  S.view = view;
  S.members = new Map((view?.members ?? []).map((m) => [m.id, m]));
  $('loc').textContent = S.loc.length ? S.loc.join(' › ') : 'the lobby (no server)';
  $('up').disabled = S.loc.length === 0;
  renderMembers();
  renderCity();
}

/** After lobby.enter, lobby.leave or lobby.city.open: where we are, and browse from there. */
export function applyMove(r) {
  S.loc = r.loc;
  applyView(r.loc.length ? r.view : undefined);
  system(S.loc.length ? `you are in ${here()}` : 'you left the servers');
  browse(S.loc.length >= 2 ? S.loc[1] : S.loc[0] ?? '');
}

function renderMembers() {
  const list = $('members');
  list.replaceChildren();
  for (const [id, m] of S.members) {
    const self = id === S.me?.id;
    list.append(el('li', { class: self ? 'self' : undefined, data: { id }, title: self ? undefined : `whisper to ${m.name}` }, `${m.name} · ${m.hr}`));
  }
  const target = $('target');
  const chosen = target.value;
  target.replaceChildren(new Option('everyone here', '*'));
  for (const [id, m] of S.members) if (id !== S.me?.id) target.append(new Option(`whisper ${m.name}`, `w:${id}`));
  if (chosen.startsWith('t:')) target.append(new Option(`tell ${chosen.slice(2)}`, chosen));
  target.value = [...target.options].some((o) => o.value === chosen) ? chosen : '*';
}

/** Points the chat form at a player anywhere (a tell), e.g. from search results or the friend list. */
export function tellTo(id) {
  const target = $('target');
  if (![...target.options].some((o) => o.value === `t:${id}`)) target.append(new Option(`tell ${id}`, `t:${id}`));
  target.value = `t:${id}`;
  $('text').focus();
}

async function say() {
  const text = $('text').value;
  const target = $('target').value;
  if (!text) return;
  if (target === '*') await S.lobby.request('lobby.chat', { text });
  else {
    const to = target.slice(2);
    const whisper = target.startsWith('w:');
    await S.lobby.request(whisper ? 'lobby.whisper' : 'lobby.tell', { to, text });
    // Whispers and tells reach the addressee only: show our own copy.
    line([[S.me.name, 'from'], [` (${whisper ? 'whisper' : 'tell'} to ${S.members.get(to)?.name ?? to}): `], [text]], 'private');
  }
  $('text').value = '';
}

function wirePushes() {
  const { lobby } = S;
  lobby.on('lobby.onChat', (m) => line([[m.name, 'from'], [': '], [m.text]]));
  lobby.on('lobby.onWhisper', (m) => line([[m.name, 'from'], [' (whispers): '], [m.text]], 'private'));
  lobby.on('lobby.onTell', (m) => line([[m.name, 'from'], [` (${m.from}, tell): `], [m.text]], 'private'));
  lobby.on('lobby.onJoin', (m) => {
    if (m.layer !== here()) return;
    S.members.set(m.id, m);
    renderMembers();
    system(`${m.name} came in`);
  });
  lobby.on('lobby.onLeave', (m) => {
    if (m.layer !== here()) return;
    const name = S.members.get(m.id)?.name ?? m.id;
    S.members.delete(m.id);
    renderMembers();
    system(`${name} left`);
  });
  lobby.on('lobby.onReservationExpired', ({ city }) => {
    S.reserved = null;
    $('open-form').hidden = true;
    system(`your reservation of ${city} expired`);
  });
  wireSocial(lobby);
}

// ---- browsing the tree -----------------------------------------------------------------------------------------

function browse(id) {
  S.browsing = id;
  const crumbs = $('crumbs');
  crumbs.replaceChildren(button('servers', 'crumb', () => browse('')));
  const parts = id ? id.split('-') : [];
  for (let i = 0; i < parts.length; i++) {
    const to = parts.slice(0, i + 1).join('-');
    crumbs.append(' › ', button(to, 'crumb', () => browse(to)));
  }
  void refreshBrowse();
}

let browsing = false;
async function refreshBrowse() {
  // A tab in the background does not poll: a dozen asks every 2 s per open tab is load for nobody to see.
  if (browsing || !S.me || document.hidden) return;
  browsing = true;
  const id = S.browsing;
  try {
    const items = await browseItems(id);
    if (id === S.browsing) patch($('browse-list'), items, 'nothing here');
  } catch (err) {
    if (id === S.browsing) showError(err);
  } finally {
    browsing = false;
  }
}

async function browseItems(id) {
  const go = (layer) => () => void act(async () => applyMove(await S.lobby.request('lobby.enter', { layer })));
  // No Enter button on the layer we stand in.
  const enter = (layer) => (here() === layer ? undefined : button('Enter', 'enter', go(layer)));
  const at = (layer) => (S.loc.includes(layer) ? 'here' : undefined);
  if (!id) {
    const page = await S.lobby.request('lobby.servers', { limit: 100 });
    return page.items.map((s) =>
      el('li', { data: { id: s.id }, class: at(s.id) }, el('span', { class: 'grow' }, `${s.id} `, tag(s.type, 'type')), count(s.n, s.capacity), tag(s.status), button('Gates', 'browse', () => browse(s.id)), enter(s.id)),
    );
  }
  if (id.split('-').length === 1) {
    const { gates } = await S.lobby.request('lobby.gates', { server: id, limit: 100 });
    return gates.items.map((g) =>
      el('li', { data: { id: g.id }, class: at(g.id) }, el('span', { class: 'grow' }, g.id), count(g.n, g.capacity), tag(g.status), button('Cities', 'browse', () => browse(g.id)), enter(g.id)),
    );
  }
  const { cities } = await S.lobby.request('lobby.cities', { gate: id, limit: 100 });
  return cities.items.map((c) => {
    const what = c.state === 'open' ? `${c.leader ?? ''}${c.settings?.goal ? ` · ${c.settings.goal}` : ''}${c.circles ? ` · ${c.circles} circle(s)` : ''}` : '';
    const actions = c.state === 'open' ? enter(c.id) : c.state === 'empty' ? button('Reserve', 'reserve', () => void act(() => reserve(c.id))) : undefined;
    return el('li', { data: { id: c.id, state: c.state }, class: at(c.id) }, el('span', { class: 'grow' }, `${c.id} `, tag(c.state), ' ', what), count(c.n, c.capacity), actions);
  });
}

async function reserve(city) {
  const r = await S.lobby.request('lobby.city.reserve', { city });
  S.reserved = r.city;
  $('reserved').textContent = `${r.city} (for ${Math.round(r.expiresInMs / 1000)} s)`;
  $('open-form').hidden = false;
  system(`reserved ${r.city}: open it before the reservation runs out`);
}

function wire() {
  document.addEventListener('visibilitychange', () => void refreshBrowse());
  onSubmit('login-form', login);
  onSubmit('say-form', say);
  onSubmit('open-form', async () => {
    const settings = { goal: $('open-goal').value, seeking: $('open-seeking').value, hrMin: Number($('open-hrmin').value), hrMax: Number($('open-hrmax').value) };
    applyMove(await S.lobby.request('lobby.city.open', { settings }));
    S.reserved = null;
    $('open-form').hidden = true;
  });
  $('cancel').addEventListener('click', () =>
    void act(async () => {
      await S.lobby.request('lobby.city.cancel');
      S.reserved = null;
      $('open-form').hidden = true;
    }),
  );
  $('up').addEventListener('click', () => void act(async () => applyMove(await S.lobby.request('lobby.leave'))));
  $('members').addEventListener('click', (e) => {
    const id = e.target?.dataset?.id;
    if (id && id !== S.me?.id) {
      $('target').value = `w:${id}`;
      $('text').focus();
    }
  });
  $('logout').addEventListener('click', () =>
    void act(async () => {
      await S.lobby.request('lobby.logout');
      loggedOut();
    }),
  );
}

async function start() {
  initSocial({ S, applyMove, tellTo });
  wire();
  try {
    // With authentication on, a token: `?token=…` in the page's URL or the form's field (gatehouse token …).
    const token = new URLSearchParams(location.search).get('token') ?? '';
    $('token').value = token;
    await open(token);
  } catch (err) {
    // A gateway with authentication on refuses a connection without a (valid) token: ask for one in the form.
    const unauthorized = err.code === 'UNAUTHORIZED';
    setStatus(unauthorized ? 'this gateway wants a token' : 'offline');
    showError(err);
    if (unauthorized) $('login').disabled = false;
    return;
  }
  $('login').disabled = false;
  // A reloaded tab whose session is still logged in goes straight back to where it was.
  try {
    await loggedIn(await S.lobby.request('lobby.whoami'));
  } catch (err) {
    if (err.code !== 'NOT_LOGGED_IN' && err.code !== 'UNAUTHORIZED') showError(err);
  }
}

void start();
