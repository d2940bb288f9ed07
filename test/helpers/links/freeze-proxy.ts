/**
 * A TCP forwarder on 127.0.0.1:0 that can "freeze": it stops moving bytes in both directions
 * and hides closes, without closing anything itself — what a dead NAT entry or a pulled cable
 * looks like to both ends. Frozen connections stay frozen until thaw(); while frozen, new
 * connections are accepted but frozen too.
 */
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';

interface Link {
  a: Socket;
  b: Socket;
  /** Bytes read from one side while frozen, delivered on thaw. */
  held: { to: Socket; chunk: Buffer }[];
  /** A close seen while frozen, replayed on thaw. */
  closeHeld: boolean;
}

export interface FreezeProxy {
  port: number;
  /** Links currently open. */
  links: number;
  freeze(): void;
  thaw(): void;
  close(): Promise<void>;
}

export async function startFreezeProxy(upstreamPort: number, upstreamHost = '127.0.0.1'): Promise<FreezeProxy> {
  const links = new Set<Link>();
  let frozen = false;

  const destroyLink = (link: Link): void => {
    links.delete(link);
    link.a.destroy();
    link.b.destroy();
  };

  const forward = (link: Link, from: Socket, to: Socket): void => {
    from.on('data', (chunk: Buffer) => {
      if (frozen) {
        link.held.push({ to, chunk });
        from.pause();
        return;
      }
      if (!to.write(chunk)) {
        from.pause();
        to.once('drain', () => {
          if (!frozen) from.resume();
        });
      }
    });
    from.on('error', () => {});
    from.on('close', () => {
      if (frozen) link.closeHeld = true;
      else destroyLink(link);
    });
  };

  const server: Server = createServer((a) => {
    const b = connect({ port: upstreamPort, host: upstreamHost });
    const link: Link = { a, b, held: [], closeHeld: false };
    links.add(link);
    if (frozen) {
      a.pause();
      b.pause();
    }
    forward(link, a, b);
    forward(link, b, a);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));

  return {
    port: (server.address() as AddressInfo).port,
    get links() {
      return links.size;
    },
    freeze() {
      frozen = true;
      for (const link of links) {
        link.a.pause();
        link.b.pause();
      }
    },
    thaw() {
      frozen = false;
      for (const link of [...links]) {
        if (link.closeHeld) {
          destroyLink(link);
          continue;
        }
        for (const { to, chunk } of link.held) to.write(chunk);
        link.held = [];
        link.a.resume();
        link.b.resume();
      }
    },
    close() {
      for (const link of [...links]) destroyLink(link);
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
