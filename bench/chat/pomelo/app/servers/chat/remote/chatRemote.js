/**
 * Called by the connector: seat a user in a room (its channel) under a name, announced to the others with onAdd, or
 * take them out (onLeave). The chat server is the authority on who is called what in each room.
 */
'use strict';

/** rid → Map(name → uid), shared with the chat handler through the app's settings. */
function roomNames(app) {
  let names = app.get('chatRoomNames');
  if (!names) app.set('chatRoomNames', (names = new Map()));
  return names;
}

module.exports = (app) => {
  const channels = app.get('channelService');
  const names = roomNames(app);
  return {
    join(uid, sid, rid, name, cb) {
      const room = names.get(rid) || new Map();
      if (room.has(name) && room.get(name) !== uid) return cb(null, { error: true });
      names.set(rid, room);
      const channel = channels.getChannel(rid, true);
      if (channel.getUserAmount() > 0) channel.pushMessage('onAdd', { user: name }, () => undefined);
      channel.add(uid, sid);
      room.set(name, uid);
      cb(null, { users: [...room.keys()] });
    },
    leave(uid, sid, rid, cb) {
      const channel = channels.getChannel(rid, false);
      const room = names.get(rid);
      let name;
      if (room) for (const [n, u] of room) if (u === uid) name = n;
      if (channel && name !== undefined) {
        channel.leave(uid, sid);
        room.delete(name);
        if (room.size === 0) {
          channels.destroyChannel(rid);
          names.delete(rid);
        } else channel.pushMessage('onLeave', { user: name }, () => undefined);
      }
      cb();
    },
  };
};
module.exports.roomNames = roomNames;
