/**
 * Whether a host name is this machine: `localhost`, 127.0.0.0/8 or `::1` (with or without brackets). The one place
 * that says so, for the outbound URL policy (plain http allowed), the Atera client and the bot's login URL, the
 * bind address and the ops routes' exposure.
 */
export function isLoopbackHost(hostname: string): boolean {
  const h = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h === '::1' || /^127(\.\d{1,3}){3}$/.test(h);
}
