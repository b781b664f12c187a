// Small DOM helpers for the lobby playground. Everything from the server (names, chat, goals) is other people's
// input: it only ever goes in through textContent, never innerHTML.

export const $ = (id) => document.getElementById(id);

/** An element with text children (strings become text nodes) and element children; `props` set attributes. */
export function el(tag, props = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') e.className = v;
    else if (k === 'data') Object.assign(e.dataset, v);
    else if (k === 'onclick') e.addEventListener('click', v);
    else e.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children) if (c !== undefined && c !== null && c !== false) e.append(typeof c === 'string' || typeof c === 'number' ? String(c) : c);
  return e;
}

export const button = (label, cls, onclick) => el('button', { type: 'button', class: cls, onclick }, label);
export const tag = (text, cls = text) => el('span', { class: `tag ${cls}` }, text);
export const count = (n, capacity) => el('span', { class: 'count' }, `${n}/${capacity}`);

/** Replaces a list's items; `empty` is shown (greyed) when there are none. */
export function fill(list, items, empty) {
  list.replaceChildren(...(items.length ? items : [el('li', { class: 'hint' }, empty)]));
}

/**
 * Like fill, for lists that refresh while someone looks at them: rows that did not change stay the same elements, so
 * a click on one is not lost to a refresh that replaced it a moment earlier.
 */
export function patch(list, items, empty) {
  const old = [...list.children];
  const sig = (li) => `${li.dataset.id ?? ''}|${li.className}|${li.textContent}`;
  if (!items.length || old.length !== items.length || old.some((li, i) => li.dataset.id !== items[i].dataset.id)) return fill(list, items, empty);
  old.forEach((li, i) => {
    if (sig(li) !== sig(items[i])) li.replaceWith(items[i]);
  });
}

export function setStatus(text, ok = false) {
  $('status').textContent = text;
  $('status').classList.toggle('ok', ok);
}

export function showError(err) {
  $('error').textContent = err ? `${err.code ?? 'ERROR'}: ${err.message ?? err}` : '';
}

/** Appends a line to the chat log: parts are [text, class?] pairs. */
export function line(parts, cls) {
  const li = el('li', { class: cls });
  for (const [text, c] of parts) li.append(el('span', { class: c }, text));
  const log = $('log');
  log.append(li);
  while (log.children.length > 500) log.firstElementChild.remove();
  log.scrollTop = log.scrollHeight;
}

export const system = (text) => line([[text]], 'sys');

/** Runs an action from a button or form, showing its error (if any) instead of throwing. */
export async function act(fn) {
  showError(null);
  try {
    await fn();
  } catch (err) {
    showError(err);
  }
}

/** A form's submit runs `fn` (default prevented, errors shown). */
export function onSubmit(id, fn) {
  $(id).addEventListener('submit', (e) => {
    e.preventDefault();
    void act(fn);
  });
}
