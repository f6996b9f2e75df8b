import { rootCertificates } from 'node:tls';
import { Agent, type Dispatcher } from 'undici';

/**
 * An undici dispatcher that trusts Node's bundled root CAs plus `caPem` (GRAPH_CA_FILE: a sandbox's throwaway
 * certificate or a TLS-inspecting proxy's CA). Node 20's global fetch, which the Graph client uses, accepts it as
 * `dispatcher`, so the extra CA applies to Graph calls only, in-process, without NODE_EXTRA_CA_CERTS.
 */
export function dispatcherTrusting(caPem: string): Dispatcher {
  return new Agent({ connect: { ca: [...rootCertificates, caPem] } });
}
