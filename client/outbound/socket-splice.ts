/**
 * Joins two TCP sockets (an application's and a direct dial's) in both directions: pipe()
 * carries the bytes with backpressure and each FIN on its own (both sockets allow half-open);
 * a reset or an abrupt close on one side resets the other, as socket-bridge does for streams.
 */
import type { Socket } from 'node:net';

export function spliceSockets(a: Socket, b: Socket): void {
  a.pipe(b);
  b.pipe(a);
  cutOnAbruptClose(a, b);
  cutOnAbruptClose(b, a);
}

function cutOnAbruptClose(from: Socket, to: Socket): void {
  let failed = false;
  from.on('error', () => {
    failed = true;
  });
  from.once('close', () => {
    if (to.destroyed) return;
    // Both directions finished cleanly: `to` has its FIN and has sent one, and closes itself.
    if (!failed && to.readableEnded && to.writableEnded) return;
    // A socket already shutting down (end() pending) can't be reset: libuv answers EINVAL.
    if (failed && !to.writableEnded) to.resetAndDestroy();
    else to.destroy();
  });
}
