/**
 * Chat's own error codes. They cross the wire as `{code, message}` (the gateway passes a thrown GatehouseError's code
 * to the client), so they are a contract with clients and the web page: add, never rename.
 */
export const ChatErrorCode = {
  /** Another member of that room already uses the name. */
  NameTaken: 'NAME_TAKEN',
  /** The session is not (or no longer) a member of the room it talks to. */
  NotInRoom: 'NOT_IN_ROOM',
  /** A private message to a name nobody in the room has. */
  NoSuchUser: 'NO_SUCH_USER',
  /** The room holds chat.maxMembers members; the enter changed nothing (the session stays where it was). */
  RoomFull: 'ROOM_FULL',
} as const;
export type ChatErrorCode = (typeof ChatErrorCode)[keyof typeof ChatErrorCode];
