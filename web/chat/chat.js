// The chat page: plain DOM, no framework, no build step. It talks to gatehouse through the browser SDK that every
// gateway serves at /sdk/gatehouse.js, on the gateway the entry endpoint picks (the least loaded).
// All text from the server goes in with textContent, never innerHTML: names and messages are other people's input.
import { connect } from '/sdk/gatehouse.js';

const $ = (id) => document.getElementById(id);
// The session ticket survives a reload of this tab, so a reload resumes the session (and its seat in the room).
const TICKET = 'gatehouse.chat.ticket';

let gh;
let me = '';
let users = [];

function setStatus(text, ok = false) {
  $('status').textContent = text;
  $('status').classList.toggle('ok', ok);
}

function showError(err) {
  $('error').textContent = err ? `${err.code ?? 'ERROR'}: ${err.message ?? err}` : '';
}

function line(parts, cls) {
  const li = document.createElement('li');
  if (cls) li.className = cls;
  for (const [text, c] of parts) {
    const span = document.createElement('span');
    if (c) span.className = c;
    span.textContent = text;
    li.append(span);
  }
  $('log').append(li);
  $('log').scrollTop = $('log').scrollHeight;
}

const system = (text) => line([[text]], 'sys');

function renderMembers() {
  const list = $('members');
  list.replaceChildren();
  for (const u of users) {
    const li = document.createElement('li');
    li.textContent = u;
    li.dataset.user = u;
    if (u === me) li.className = 'me';
    else li.title = `send privately to ${u}`;
    list.append(li);
  }
  // Keep the chosen target if it is still here.
  const target = $('target');
  const chosen = target.value;
  target.replaceChildren(new Option('everyone', '*'));
  for (const u of users) if (u !== me) target.append(new Option(u, u));
  target.value = users.includes(chosen) && chosen !== me ? chosen : '*';
}

function seated(room, name, list, { switched = false } = {}) {
  me = name;
  users = list;
  $('current-room').textContent = room;
  $('me').textContent = name;
  $('enter-form').hidden = true;
  $('chat').hidden = false;
  // A switch keeps the conversation so far on screen; a fresh entry starts a clean log.
  if (!switched) $('log').replaceChildren();
  system(switched ? `you moved to ${room}` : `you are in ${room} as ${name}`);
  renderMembers();
  $('text').focus();
}

function unseated() {
  me = '';
  users = [];
  $('chat').hidden = true;
  $('enter-form').hidden = false;
}

/** Runs a request from a form, showing its error (if any) instead of throwing. */
async function act(fn) {
  showError(null);
  try {
    await fn();
  } catch (err) {
    showError(err);
  }
}

function wire() {
  gh.on('onChat', ({ msg, from, target }) => {
    const isPrivate = target !== '*';
    line([[from, 'from'], [isPrivate ? ' (to you): ' : ': '], [msg]], isPrivate ? 'private' : undefined);
  });
  gh.on('onAdd', ({ user }) => {
    if (!users.includes(user)) users = [...users, user];
    renderMembers();
    system(`${user} joined`);
  });
  gh.on('onLeave', ({ user }) => {
    users = users.filter((u) => u !== user);
    renderMembers();
    system(`${user} left`);
  });
  gh.onEvent('open', ({ resumed }) => {
    sessionStorage.setItem(TICKET, gh.ticket);
    setStatus('connected', true);
    // A resumed session kept its seat, but pushes sent while we were away are gone: refresh who is here.
    if (resumed && me) void refresh();
    if (!resumed && me) {
      unseated();
      showError({ code: 'SESSION_EXPIRED', message: 'the session was lost; enter again' });
    }
  });
  gh.onEvent('disconnect', ({ reconnecting }) => setStatus(reconnecting ? 'reconnecting…' : 'disconnected'));
  gh.onEvent('close', () => setStatus('closed'));

  $('enter-form').addEventListener('submit', (e) => {
    e.preventDefault();
    const name = $('name').value.trim();
    const room = $('room').value.trim();
    void act(async () => {
      const { users: list } = await gh.request('chat.enter', { name, room });
      seated(room, name, list);
    });
  });
  $('send-form').addEventListener('submit', (e) => {
    e.preventDefault();
    const content = $('text').value;
    const target = $('target').value;
    if (!content) return;
    void act(async () => {
      await gh.request('chat.send', { content, target });
      $('text').value = '';
      // The room sends a private message to its addressee only; show our own copy here.
      if (target !== '*') line([[me, 'from'], [` (to ${target}): `], [content]], 'private');
    });
  });
  $('members').addEventListener('click', (e) => {
    const user = e.target?.dataset?.user;
    if (user && user !== me) {
      $('target').value = user;
      $('text').focus();
    }
  });
  $('switch-form').addEventListener('submit', (e) => {
    e.preventDefault();
    const room = $('switch-room').value.trim();
    void act(async () => {
      const { users: list } = await gh.request('chat.switch', { room });
      $('switch-room').value = '';
      seated(room, me, list, { switched: true });
    });
  });
  $('leave').addEventListener('click', () =>
    void act(async () => {
      await gh.request('chat.leave', {});
      unseated();
    }),
  );
}

async function refresh() {
  try {
    const r = await gh.request('chat.members', {});
    if (r.name !== me || $('current-room').textContent !== r.room) seated(r.room, r.name, r.users);
    else {
      users = r.users;
      renderMembers();
    }
  } catch (err) {
    if (err.code === 'NOT_IN_ROOM') unseated();
    else showError(err);
  }
}

async function start() {
  try {
    // A gateway with authentication on wants a token: `?token=…` in the page's URL (gatehouse token --key … --sub …).
    // Without one the page connects as an anonymous chat client, which the operator allows by default.
    const token = new URLSearchParams(location.search).get('token') ?? undefined;
    gh = await connect({ entry: '/entry', ticket: sessionStorage.getItem(TICKET) ?? undefined, client: 'web-chat', token });
  } catch (err) {
    setStatus('offline');
    showError(err);
    return;
  }
  sessionStorage.setItem(TICKET, gh.ticket);
  setStatus('connected', true);
  wire();
  $('enter').disabled = false;
  // Reloaded with a live session that sits in a room: go straight back to it.
  await refresh();
}

void start();
