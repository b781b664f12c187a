/**
 * The few parts of Colyseus 0.18's API that bench chat uses, typed here because the packages are not in the root
 * node_modules (bench/peers/resolve.ts). Shapes follow @colyseus/core, @colyseus/ws-transport and @colyseus/sdk 0.18.
 */
export interface ColyseusClient {
  readonly sessionId: string;
  send(type: string, message?: unknown): void;
}

export interface ColyseusRoom {
  maxClients: number;
  autoDispose: boolean;
  patchRate: number | null;
  seatReservationTimeout: number;
  readonly clients: Iterable<ColyseusClient>;
  onMessage(type: string, cb: (client: ColyseusClient, message: any) => void): void;
  broadcast(type: string, message?: unknown, options?: { except?: ColyseusClient }): void;
  onCreate(options: unknown): void;
  onJoin(client: ColyseusClient, options: any): void;
  onLeave(client: ColyseusClient): void;
}

export interface ColyseusCore {
  Room: abstract new () => ColyseusRoom;
  Server: new (o: { transport: unknown; greet?: boolean; gracefullyShutdown?: boolean }) => {
    define(name: string, room: new () => ColyseusRoom): { filterBy(keys: string[]): unknown };
    listen(port: number, host: string): Promise<unknown>;
    gracefullyShutdown(exit?: boolean): Promise<void>;
  };
}

export interface ColyseusWsTransport {
  WebSocketTransport: new (o: { pingInterval?: number }) => object;
}

export interface ColyseusSdkRoom {
  onMessage(type: string, cb: (message: any) => void): void;
  send(type: string, message?: unknown): void;
  leave(consented?: boolean): Promise<unknown>;
}

export interface ColyseusSdk {
  Client: new (url: string) => { joinOrCreate(name: string, options: unknown): Promise<ColyseusSdkRoom> };
}
