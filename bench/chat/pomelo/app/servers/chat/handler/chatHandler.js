/**
 * chat.chatHandler.send {content, target}: to everyone in the session's room (`*`) or to one member, as the push
 * onChat {msg, from, target}. The room and the sender come from the session, never from the message.
 */
'use strict';
const { roomNames } = require('../remote/chatRemote.js');

module.exports = (app) => {
  const channels = app.get('channelService');
  const names = roomNames(app);
  return {
    send(msg, session, next) {
      const rid = session.get('rid');
      const from = session.get('name');
      const channel = rid && channels.getChannel(rid, false);
      if (!channel || typeof msg.content !== 'string') return next(null, { code: 500, error: true });
      const target = typeof msg.target === 'string' ? msg.target : '*';
      const line = { msg: msg.content, from, target };
      if (target === '*') {
        channel.pushMessage('onChat', line, () => undefined);
        return next(null, { route: msg.route });
      }
      const uid = names.get(rid) && names.get(rid).get(target);
      const member = uid && channel.getMember(uid);
      if (!member) return next(null, { code: 500, error: true });
      channels.pushMessageByUids('onChat', line, [{ uid, sid: member.sid }], () => undefined);
      next(null, { route: msg.route });
    },
  };
};
