// Where a subscriber-supplied destination may point: http/https only, no private addresses unless the operator allows them.
import { lookup } from 'node:dns/promises';
import { BlockList, isIP, type LookupFunction } from 'node:net';
import { ChannelError, errorCode, errorMessage } from './errors';
import type { ChannelContext } from './types';

// Loopback, private, link-local (cloud metadata lives at 169.254.169.254), CGNAT, benchmarking, multicast, reserved.
const blocked = new BlockList();
for (const [net, prefix] of [
  ['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16], ['172.16.0.0', 12],
  ['192.0.0.0', 24], ['192.168.0.0', 16], ['198.18.0.0', 15], ['224.0.0.0', 4], ['240.0.0.0', 4],
] as const) blocked.addSubnet(net, prefix, 'ipv4');
for (const [net, prefix] of [
  ['::', 128], ['::1', 128], ['fc00::', 7], ['fe80::', 10], ['ff00::', 8], ['64:ff9b::', 96], ['2001:db8::', 32],
] as const) blocked.addSubnet(net, prefix, 'ipv6');

/** True for addresses a public destination never has. IPv4-mapped IPv6 (::ffff:10.0.0.1) is judged as the IPv4 inside. */
export function isPrivateAddress(address: string): boolean {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return blocked.check(mapped[1], 'ipv4');
  const family = isIP(address);
  if (family === 4) return blocked.check(address, 'ipv4');
  if (family === 6) return blocked.check(address, 'ipv6');
  return true; // not an address at all: refuse rather than guess
}

export interface ResolvedHost {
  hostname: string;
  address: string;
  family: 4 | 6;
}

export interface ResolvedUrl extends ResolvedHost {
  url: URL;
}

/**
 * Resolves once and checks every address the name has, so a name with one public and one private address is refused.
 * The caller connects to `address` (pinnedLookup), so a second lookup cannot answer differently (DNS rebinding).
 */
export async function resolveHost(hostname: string, ctx: ChannelContext, what: string): Promise<ResolvedHost> {
  const bare = hostname.startsWith('[') && hostname.endsWith(']') ? hostname.slice(1, -1) : hostname;
  let addresses: { address: string; family: number }[];
  if (isIP(bare)) addresses = [{ address: bare, family: isIP(bare) }];
  else {
    try {
      addresses = await lookup(bare, { all: true, verbatim: true });
    } catch (err) {
      // NXDOMAIN may be a DNS hiccup or a typo; retrying is cheap and the overall deadline ends it.
      throw new ChannelError('CONNECTION', `${what}: cannot resolve ${bare}: ${errorMessage(err)} (${errorCode(err) ?? 'DNS'})`, {
        permanent: false,
        cause: err,
      });
    }
  }
  if (addresses.length === 0) throw new ChannelError('CONNECTION', `${what}: ${bare} has no address`, { permanent: false });
  if (!ctx.allowPrivateNetworks) {
    const inside = addresses.find((a) => isPrivateAddress(a.address));
    if (inside) {
      throw new ChannelError(
        'DESTINATION_REFUSED',
        `${what}: ${bare} resolves to ${inside.address}, a private/loopback/link-local address; ` +
          'point the channel at a public address, or have an operator allow private networks',
        { permanent: true },
      );
    }
  }
  const first = addresses[0];
  return { hostname: bare, address: first.address, family: first.family === 6 ? 6 : 4 };
}

/** Parses and checks a destination URL (http/https only), then resolves its host as resolveHost does. */
export async function resolveUrl(raw: string, ctx: ChannelContext, what: string): Promise<ResolvedUrl> {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ChannelError('DESTINATION_REFUSED', `${what}: not a URL`, { permanent: true });
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new ChannelError('DESTINATION_REFUSED', `${what}: scheme ${url.protocol} is not allowed; use https (or http)`, { permanent: true });
  }
  if (url.username || url.password) {
    // Credentials in a URL end up in logs; channels have fields (or headers) for them.
    throw new ChannelError('DESTINATION_REFUSED', `${what}: the URL must not carry a user or password`, { permanent: true });
  }
  return { url, ...(await resolveHost(url.hostname, ctx, what)) };
}

/** A dns.lookup replacement that answers every name with the address checked earlier. */
export function pinnedLookup(host: ResolvedHost): LookupFunction {
  return (_hostname, options, callback) => {
    // Node asks with all: true when autoSelectFamily is on (the default since Node 20).
    if (options.all) callback(null, [{ address: host.address, family: host.family }]);
    else callback(null, host.address, host.family);
  };
}
