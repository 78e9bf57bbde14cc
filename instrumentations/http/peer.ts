import type { Socket } from 'node:net';
import { SymbolSlot } from '../../src/instrumentation/symbol-slot';

/** The other end of a connection, for network.peer.address and network.peer.port. */
export interface Peer {
  readonly address: string | undefined;
  readonly port: number | undefined;
}

export const NO_PEER: Peer = { address: undefined, port: undefined };

/** The peer of a connection, read once: keep-alive requests share it, and each read is a getter chain into the socket's handle. */
const connectionPeer = new SymbolSlot<Peer>('tracelet.http.peer');

/** The socket's peer; both undefined while it is still connecting (or, for a client, once it failed). */
export function peerOf(socket: Socket): Peer {
  let peer = connectionPeer.get(socket);
  if (peer === undefined) {
    peer = { address: socket.remoteAddress, port: socket.remotePort };
    if (peer.address !== undefined) connectionPeer.set(socket, peer); // not yet known while connecting
  }
  return peer;
}
