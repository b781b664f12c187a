/**
 * connector.entryHandler.enter {username, rid}: binds the session to a user id of its own, seats it in room `rid` on
 * the chat server under `username` (a name already in that room is refused with {code: 500, error: true}) and answers
 * with the room's member names. connector.entryHandler.switch {rid}: the same user moves to another room on the same
 * connection (entering the new room first: a refused name leaves it where it was). A closed session leaves its room.
 */
'use strict';

const REFUSED = { code: 500, error: true };

module.exports = (app) => {
  const join = (session, rid, cb) =>
    app.rpc.chat.chatRemote.join(session, session.uid, app.get('serverId'), rid, session.get('name'), cb);
  const leave = (session, rid, cb) => app.rpc.chat.chatRemote.leave(session, session.uid, app.get('serverId'), rid, cb);
  let nextUser = 0;

  return {
    enter(msg, session, next) {
      const rid = typeof msg.rid === 'string' ? msg.rid : '';
      const name = typeof msg.username === 'string' ? msg.username : '';
      // Seated already: moving is `switch`. A session whose earlier enter was refused may try again.
      if (!rid || !name || session.get('rid')) return next(null, REFUSED);
      // Until the chat server has registered with this connector there is no RPC route to it yet.
      if (!app.rpc || !app.rpc.chat) return next(null, REFUSED);
      const seat = () => {
        session.set('name', name);
        join(session, rid, (err, res) => {
          if (err || !res || res.error) return next(null, REFUSED);
          session.set('rid', rid);
          session.pushAll(() => next(null, { users: res.users }));
        });
      };
      if (session.uid) return seat();
      session.bind(`${app.get('serverId')}#${++nextUser}`, (err) => {
        if (err) return next(err);
        session.on('closed', () => {
          const seated = session.get('rid');
          if (seated) leave(session, seated, () => undefined);
        });
        seat();
      });
    },

    switch(msg, session, next) {
      const rid = typeof msg.rid === 'string' ? msg.rid : '';
      const from = session.get('rid');
      if (!rid || !from) return next(null, REFUSED);
      if (rid === from) return next(null, REFUSED);
      join(session, rid, (err, res) => {
        if (err || !res || res.error) return next(null, REFUSED);
        session.set('rid', rid);
        session.pushAll(() => leave(session, from, () => next(null, { users: res.users })));
      });
    },
  };
};
