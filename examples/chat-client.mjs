// @ts-check
// A chat client on the gatehouse SDK (Node): enter a room, say something, hear it back, list the room, leave.
//
//   npm start                                   # a node with the chat app, in another terminal
//   node examples/chat-client.mjs [ws://127.0.0.1:7350] [name] [room]
//
// In your own project: `npm install <path to gatehouse>` and the same import works. The answers and pushes are typed
// (chatClient: ChatRoutes, ChatPushes), so an editor checks this file as you write it. docs/SDK.md explains the API.
import { connect, chatClient } from 'gatehouse/client/node';

const [url = 'ws://127.0.0.1:7350', name = `guest${process.pid % 1000}`, room = 'lobby'] = process.argv.slice(2);

const gh = await connect({ url, client: 'example-chat' });
const chat = chatClient(gh);
try {
  // Pushes arrive by route; subscribe before the request that causes them.
  const heard = new Promise((resolve) => chat.on('onChat', (m) => m.from === name && resolve(m)));
  chat.on('onAdd', ({ user }) => console.log(`+ ${user} joined`));
  chat.on('onLeave', ({ user }) => console.log(`- ${user} left`));

  const { users, count } = await chat.request('chat.enter', { name, room });
  console.log(`entered ${room} as ${name}: ${count} member(s): ${users.join(', ')}`);

  await chat.request('chat.send', { content: `hello from ${name}`, target: '*' });
  const m = /** @type {{from: string, msg: string}} */ (await heard);
  console.log(`heard ${m.from}: ${m.msg}`);

  const members = await chat.request('chat.members', {});
  console.log(`members of ${members.room}: ${members.users.join(', ')}`);
  await chat.request('chat.leave');
  console.log('left');
} catch (err) {
  // Errors carry a stable code (NAME_TAKEN, ROOM_FULL, …) and whether a retry may help.
  const e = /** @type {{code?: string, message?: string}} */ (err);
  console.error(`failed: ${e.code ?? 'ERROR'}: ${e.message ?? err}`);
  process.exitCode = 1;
} finally {
  await gh.close();
}
