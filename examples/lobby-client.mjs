// @ts-check
// A lobby client on the gatehouse SDK (Node): log in as a hunter, browse servers → gates → cities with their counts,
// make a city of your own, chat in it, form a quest circle and depart on a quest, then log out.
//
//   npm start                                   # a node with the lobby, in another terminal
//   node examples/lobby-client.mjs [ws://127.0.0.1:7350] [CAPCOM_ID] [name]
//
// With authentication on (gateway.auth.mode token) pass a token: GATEHOUSE_TOKEN=$(gatehouse token …) node …
// Routes, answers and pushes are typed (lobbyClient: LobbyRoutes, LobbyPushes). docs/LOBBY.md lists them all.
import { connect, lobbyClient } from 'gatehouse/client/node';

const [url = 'ws://127.0.0.1:7350', capcomId = 'EXMPL1', name = 'Example'] = process.argv.slice(2);

const gh = await connect({ url, client: 'example-lobby', token: process.env.GATEHOUSE_TOKEN });
const lobby = lobbyClient(gh);
const say = (/** @type {string} */ line) => console.log(line);
try {
  lobby.on('lobby.onChat', (m) => say(`[${m.layer}] ${m.name}: ${m.text}`));
  lobby.on('lobby.onJoin', (m) => say(`+ ${m.name} (HR ${m.hr}) came to ${m.layer}`));
  lobby.on('lobby.onCircle', (c) => say(`circle ${c.circle} is ${c.state} with ${c.members.map((x) => x.name).join(', ')}`));

  const me = await lobby.request('lobby.login', { capcomId, name, hr: 40, weapon: 'long-sword' });
  say(`logged in as ${me.name} (${me.id}), ${me.friends.length} friend(s)`);

  // Browse: the first server with room, its emptiest gate, and an empty city in it.
  const servers = await lobby.request('lobby.servers', { type: 'Open' });
  const server = servers.items.find((s) => s.status !== 'FULL');
  if (!server) throw new Error('every Open server is full');
  say(`servers: ${servers.items.map((s) => `${s.id} ${s.type} ${s.n}/${s.capacity}`).join(', ')}`);
  const { gates } = await lobby.request('lobby.gates', { server: server.id, limit: 10 });
  const gate = [...gates.items].sort((a, b) => a.n - b.n)[0];
  if (!gate) throw new Error(`server ${server.id} has no gates`);
  const { cities } = await lobby.request('lobby.cities', { gate: gate.id });
  const free = cities.items.find((c) => c.state === 'empty');
  if (!free) throw new Error(`gate ${gate.id} has no empty city`);
  say(`gate ${gate.id}: ${cities.items.filter((c) => c.state === 'open').length} open cities of ${cities.total}`);

  // Walk down the tree; a city is created by reserving an empty one and opening it with its settings.
  await lobby.request('lobby.enter', { layer: server.id });
  await lobby.request('lobby.enter', { layer: gate.id });
  const r = await lobby.request('lobby.city.reserve', { city: free.id });
  say(`reserved ${r.city} for ${r.expiresInMs / 1000} s`);
  const opened = await lobby.request('lobby.city.open', { settings: { goal: 'Great Jaggi', seeking: 'anyone', hrMin: 1, hrMax: 999 } });
  say(`now in ${opened.loc.join(' > ')}`);

  const heard = new Promise((resolve) => lobby.on('lobby.onChat', (m) => m.from === me.id && resolve(m)));
  await lobby.request('lobby.chat', { text: 'hunting party forming!' });
  await heard;

  const circle = await lobby.request('lobby.circle.create', { goal: 'Great Jaggi' });
  say(`created circle ${circle.circle}`);
  const departed = await lobby.request('lobby.circle.depart');
  say(`departed on ${departed.goal} with ${departed.members.length} hunter(s)`);
  await lobby.request('lobby.circle.leave');
  await lobby.request('lobby.logout');
  say('logged out');
} catch (err) {
  const e = /** @type {{code?: string, message?: string}} */ (err);
  console.error(`failed: ${e.code ?? 'ERROR'}: ${e.message ?? err}`);
  process.exitCode = 1;
} finally {
  await gh.close();
}
