// `npm test` (node's own test runner): a node with this app in the test process, and a client calling its route.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, startAppNode } from './gatehouse.js';
import { app } from './app.js';

let node;
let client;
before(async () => {
  node = await startAppNode([app]);
  client = await connect({ url: node.url, client: 'app-test' });
});
after(async () => {
  await client?.close();
  await node?.stop();
});

test('hello.greet counts greetings per name', async () => {
  assert.deepEqual(await client.request('hello.greet', { name: 'ada' }), { greeting: 'Hello, ada!', count: 1 });
  assert.deepEqual(await client.request('hello.greet', { name: 'ada' }), { greeting: 'Hello, ada!', count: 2 });
  assert.equal((await client.request('hello.greet', { name: 'bob' })).count, 1);
});

test('hello.greet refuses a bad name with BAD_REQUEST', async () => {
  await assert.rejects(client.request('hello.greet', { name: '' }), (err) => err.code === 'BAD_REQUEST');
});
