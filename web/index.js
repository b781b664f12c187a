// The index page: links to what this gateway serves. The console lives on the node's ops port, which only the node
// knows (/links.json says where, or null when the node has no ops endpoint); the docs list comes from /docs/ so the
// page never links a doc that is not there. Text goes in with textContent only.
const $ = (id) => document.getElementById(id);

async function consoleLink() {
  try {
    const links = await (await fetch('/links.json', { cache: 'no-store' })).json();
    if (!links.console) return;
    const a = $('link-console');
    a.href = links.console;
    a.hidden = false;
    $('no-console').hidden = true;
    $('console-text').textContent = `Nodes, shards and actors of the cluster, at ${links.console}.`;
  } catch {
    /* keep the text that says where it is */
  }
}

async function docs() {
  const list = $('docs');
  try {
    const text = await (await fetch('/docs/', { cache: 'no-store' })).text();
    for (const path of text.split('\n').filter((l) => l.startsWith('/docs/'))) {
      const li = document.createElement('li');
      const a = document.createElement('a');
      a.href = path;
      a.textContent = path.slice('/docs/'.length).replace(/\.md$/, '');
      li.append(a);
      list.append(li);
    }
  } catch {
    list.textContent = 'the docs are in docs/ of the package';
  }
}

void consoleLink();
void docs();
