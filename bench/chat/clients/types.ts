/**
 * What the load generator needs from a chat client, whatever the system behind it: enter a room under a name, say
 * something to everyone in it, hear what is said (`onChat` gets the message text), move to another room, and go.
 * Clients are opened once and moved between room sizes, so a run pays each system's connection set-up once.
 */
export interface ChatClient {
  send(content: string): void;
  /** Leaves the current room and enters `room` under the same name (each system's own way of doing it). */
  switchTo(room: string): Promise<void>;
  close(): void;
}

export interface ChatHandlers {
  onChat(msg: string): void;
  /** A send the server refused or that failed (counted, never thrown: the load must go on). */
  onSendError(): void;
}

export type ChatOpener = (url: string, name: string, room: string, h: ChatHandlers) => Promise<ChatClient>;
