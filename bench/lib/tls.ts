import { execFile } from 'node:child_process';
import { mkdir, readFile } from 'node:fs/promises';
import { type AddressInfo, connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { createServer, type TLSSocket } from 'node:tls';
import { promisify } from 'node:util';

/** A certificate made for one bench run: its PEM files, and the PEM text of both. */
export interface ThrowawayCertificate {
  /** The certificate, which is its own CA: what NODE_EXTRA_CA_CERTS names. */
  readonly certFile: string;
  readonly cert: string;
  readonly key: string;
}

/**
 * Makes a self-signed certificate for 127.0.0.1 (ECDSA P-256, valid one day) with `openssl`, into
 * `folder`: a client trusts it through NODE_EXTRA_CA_CERTS, so a local endpoint behind TLS costs a
 * fresh process the same handshake a real one does.
 */
export async function makeThrowawayCertificate(folder: string): Promise<ThrowawayCertificate> {
  await mkdir(folder, { recursive: true });
  const certFile = join(folder, 'cert.pem');
  const keyFile = join(folder, 'key.pem');
  await promisify(execFile)('openssl', [
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
    '-days',
    '1',
    '-subj',
    '/CN=127.0.0.1',
    '-addext',
    'subjectAltName=IP:127.0.0.1',
    '-keyout',
    keyFile,
    '-out',
    certFile,
  ]);
  return { certFile, cert: await readFile(certFile, 'utf8'), key: await readFile(keyFile, 'utf8') };
}

/** A TLS endpoint in front of a local plain-TCP one, that counts the TLS handshakes it completes. */
export interface TlsRelay {
  /** `https://127.0.0.1:<port>` */
  readonly endpoint: string;
  /** TLS handshakes completed so far. */
  handshakes(): number;
  close(): Promise<void>;
}

/** Starts a TLS relay to `target` (`http://127.0.0.1:<port>`) with `certificate`. */
export async function startTlsRelay(target: string, certificate: ThrowawayCertificate): Promise<TlsRelay> {
  const port = Number(new URL(target).port);
  const sockets = new Set<Socket>();
  let handshakes = 0;
  const server = createServer({ cert: certificate.cert, key: certificate.key }, (client: TLSSocket) => {
    handshakes++;
    const upstream = connect(port, '127.0.0.1');
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('error', () => undefined);
      socket.once('close', () => {
        sockets.delete(socket);
        client.destroy();
        upstream.destroy();
      });
    }
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    endpoint: `https://127.0.0.1:${(server.address() as AddressInfo).port}`,
    handshakes: () => handshakes,
    close: () =>
      new Promise((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
