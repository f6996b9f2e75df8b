import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { generate } from 'selfsigned';

/**
 * One port that answers both HTTPS (Graph, as the graph client only attaches tokens over https) and plain HTTP
 * (the token endpoint, which msal-node reaches through `authorityMetadata`). The first byte of a connection tells
 * them apart: a TLS handshake starts with 0x16.
 */
export interface DualListener {
  port: number;
  close(): Promise<void>;
}

export interface ThrowawayCertificate {
  certPem: string;
  keyPem: string;
}

/** A self-signed certificate for 127.0.0.1 and localhost, made fresh at every start and never written to disk. */
export async function throwawayCertificate(): Promise<ThrowawayCertificate> {
  const pems = await generate([{ name: 'commonName', value: '127.0.0.1' }], {
    keySize: 2048,
    algorithm: 'sha256',
    notAfterDate: new Date(Date.now() + 7 * 24 * 3600 * 1000),
    extensions: [
      { name: 'basicConstraints', cA: true },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, keyCertSign: true },
      { name: 'extKeyUsage', serverAuth: true },
      {
        name: 'subjectAltName',
        altNames: [
          { type: 7, ip: '127.0.0.1' },
          { type: 2, value: 'localhost' },
        ],
      },
    ],
  });
  return { certPem: pems.cert, keyPem: pems.private };
}

export async function listenHttpsAndHttp(
  handler: http.RequestListener,
  certificate: ThrowawayCertificate,
  port: number,
  host: string,
): Promise<DualListener> {
  const plain = http.createServer(handler);
  const secure = https.createServer({ key: certificate.keyPem, cert: certificate.certPem }, handler);
  const sockets = new Set<net.Socket>();
  const front = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    socket.once('data', (chunk: Buffer) => {
      socket.pause();
      socket.unshift(chunk);
      (chunk[0] === 0x16 ? secure : plain).emit('connection', socket);
      process.nextTick(() => socket.resume());
    });
  });
  await new Promise<void>((resolve, reject) => {
    front.once('error', reject);
    front.listen(port, host, () => {
      front.off('error', reject);
      resolve();
    });
  });
  const address = front.address() as net.AddressInfo;
  return {
    port: address.port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        plain.close();
        secure.close();
        front.close(() => resolve());
      }),
  };
}
