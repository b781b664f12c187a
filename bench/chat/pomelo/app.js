/**
 * bench chat on Pomelo 2.2.7: the master, one connector (hybridconnector: WebSocket and TCP on one port) and one chat
 * server, each a process started by the master from this file. Written from Pomelo's documented API (createApp,
 * connectorConfig, handlers, remotes, channelService).
 *
 * The benchmark runs it from a scratch base directory (GH_POMELO_BASE) holding config/ with free loopback ports and a
 * link to app/ here. GH_POMELO_NODELAY=1 is the tuned setup: TCP_NODELAY on every socket of every Pomelo process.
 * Stock Pomelo leaves Nagle's algorithm on for its inter-server RPC sockets (pomelo-rpc's MQTT mailboxes), so a small
 * RPC can wait for the peer's delayed ACK, about 40 ms per hop; a chat line takes two hops (connector → chat server →
 * connector).
 */
'use strict';
const net = require('net');

if (process.env.GH_POMELO_NODELAY === '1') {
  const connect = net.Socket.prototype.connect;
  net.Socket.prototype.connect = function (...args) {
    this.setNoDelay(true); // applied when the handle exists (Node remembers it until then)
    return connect.apply(this, args);
  };
  const emit = net.Server.prototype.emit;
  net.Server.prototype.emit = function (event, socket, ...rest) {
    if (event === 'connection' && socket && typeof socket.setNoDelay === 'function') socket.setNoDelay(true);
    return emit.call(this, event, socket, ...rest);
  };
}

const pomelo = require('pomelo');

const app = pomelo.createApp({ base: process.env.GH_POMELO_BASE || __dirname });
app.set('name', 'gatehouse-bench-chat');

app.configure('development', 'connector', () => {
  app.set('connectorConfig', {
    connector: pomelo.connectors.hybridconnector,
    heartbeat: 60,
    useDict: true,
    useProtobuf: false,
  });
});

app.start();

process.on('uncaughtException', (err) => {
  process.stderr.write(`pomelo ${app.getServerId()}: ${err && err.stack}\n`);
});
