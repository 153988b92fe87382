import { createConnection, createServer, type Server, type Socket } from 'node:net';

/**
 * A TCP proxy on loopback in front of PostgreSQL that can cut the line: after a
 * number of bytes (both directions) it destroys every connection and refuses new
 * ones, the way a network partition or a dying server would look to pgcred.
 */
export class CuttingProxy {
  /** Bytes that went through since the last reset. */
  bytes = 0;
  cuts = 0;
  private mode: { kind: 'pass' } | { kind: 'budget'; left: number } | { kind: 'down' } = { kind: 'pass' };
  private readonly sockets = new Set<Socket>();

  private constructor(
    private readonly server: Server,
    readonly port: number,
  ) {}

  static async start(targetHost: string, targetPort: number): Promise<CuttingProxy> {
    let proxy: CuttingProxy | undefined;
    const server = createServer((client) => proxy!.accept(client, targetHost, targetPort));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    proxy = new CuttingProxy(server, (server.address() as { port: number }).port);
    return proxy;
  }

  /** Forward everything. */
  pass(): void {
    this.mode = { kind: 'pass' };
    this.bytes = 0;
  }

  /** Cut after this many more bytes. */
  cutAfter(bytes: number): void {
    this.mode = { kind: 'budget', left: bytes };
    this.bytes = 0;
  }

  /** Cut now and refuse until pass(). */
  down(): void {
    this.mode = { kind: 'down' };
    for (const socket of this.sockets) socket.destroy();
  }

  /** The same URL, through the proxy. */
  url(direct: string): string {
    const url = new URL(direct);
    url.hostname = '127.0.0.1';
    url.port = String(this.port);
    return url.toString();
  }

  close(): Promise<void> {
    this.down();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private accept(client: Socket, host: string, port: number): void {
    if (this.mode.kind === 'down') {
      client.destroy();
      return;
    }
    const upstream = createConnection({ host, port });
    for (const socket of [client, upstream]) {
      this.sockets.add(socket);
      socket.on('error', () => undefined);
      socket.on('close', () => {
        this.sockets.delete(socket);
        client.destroy();
        upstream.destroy();
      });
    }
    const forward = (from: Socket, to: Socket) =>
      from.on('data', (chunk: Buffer) => {
        if (this.mode.kind === 'down') return;
        this.bytes += chunk.length;
        if (this.mode.kind === 'budget') {
          this.mode.left -= chunk.length;
          if (this.mode.left <= 0) {
            this.cuts++;
            this.down();
            return;
          }
        }
        to.write(chunk);
      });
    forward(client, upstream);
    forward(upstream, client);
  }
}
