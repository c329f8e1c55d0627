/**
 * Which network addresses a webhook may be delivered to. Deployed, the registry refuses targets on
 * private, loopback, link-local, cloud metadata and otherwise non-public addresses (a webhook must
 * not become a way into the registry's own network), checked on the URL's host when the webhook is
 * saved and on every address the host resolves to at each delivery (DNS can change in between).
 *
 * The ranges are IANA's special-purpose registries (RFC 6890 and successors): everything not
 * globally reachable. Addresses arrive canonical: hosts are parsed by WHATWG URL (which turns
 * `2130706433`, `0x7f.1` or `017700000001` into `127.0.0.1`) and resolved addresses come from the
 * resolver; an IPv4-mapped IPv6 address (`::ffff:127.0.0.1`) is judged as the IPv4 address it maps.
 */
import { BlockList, isIP } from 'node:net';

const IPV4_RANGES: readonly [string, number, string][] = [
  ['0.0.0.0', 8, 'this network'],
  ['10.0.0.0', 8, 'private'],
  ['100.64.0.0', 10, 'shared address space (carrier-grade NAT)'],
  ['127.0.0.0', 8, 'loopback'],
  ['169.254.0.0', 16, 'link-local (includes the cloud metadata service)'],
  ['172.16.0.0', 12, 'private'],
  ['192.0.0.0', 24, 'IETF protocol assignments'],
  ['192.0.2.0', 24, 'documentation'],
  ['192.88.99.0', 24, '6to4 relay anycast'],
  ['192.168.0.0', 16, 'private'],
  ['198.18.0.0', 15, 'benchmarking'],
  ['198.51.100.0', 24, 'documentation'],
  ['203.0.113.0', 24, 'documentation'],
  ['224.0.0.0', 4, 'multicast'],
  ['240.0.0.0', 4, 'reserved (includes broadcast)'],
];

const IPV6_RANGES: readonly [string, number, string][] = [
  ['::', 128, 'unspecified'],
  ['::1', 128, 'loopback'],
  ['64:ff9b:1::', 48, 'local-use IPv4/IPv6 translation'],
  ['100::', 64, 'discard-only'],
  ['2001::', 23, 'IETF protocol assignments'],
  ['2001:db8::', 32, 'documentation'],
  ['fc00::', 7, 'unique local (includes the cloud metadata service)'],
  ['fe80::', 10, 'link-local'],
  ['fec0::', 10, 'site-local'],
  ['ff00::', 8, 'multicast'],
];

const blocked = new Map<BlockList, string>();
for (const [net, prefix, why] of IPV4_RANGES) {
  const list = new BlockList();
  list.addSubnet(net, prefix, 'ipv4');
  blocked.set(list, why);
}
for (const [net, prefix, why] of IPV6_RANGES) {
  const list = new BlockList();
  list.addSubnet(net, prefix, 'ipv6');
  blocked.set(list, why);
}

/** The IPv4 address an IPv6 address carries, for the prefixes that embed one. */
function embeddedIpv4(ipv6: string): string | undefined {
  const words = expandIpv6(ipv6);
  if (!words) return undefined;
  const v4 = (hi: number, lo: number) => `${hi >> 8}.${hi & 0xff}.${lo >> 8}.${lo & 0xff}`;
  // IPv4-mapped (::ffff:a.b.c.d) and IPv4-compatible (::a.b.c.d, deprecated).
  if (words.slice(0, 5).every((w) => w === 0) && (words[5] === 0xffff || words[5] === 0)) {
    if (words[5] === 0 && words[6] === 0) return undefined; // :: and ::1 are judged as IPv6
    return v4(words[6]!, words[7]!);
  }
  // NAT64 well-known prefix 64:ff9b::/96.
  if (words[0] === 0x64 && words[1] === 0xff9b && words.slice(2, 6).every((w) => w === 0)) {
    return v4(words[6]!, words[7]!);
  }
  // 6to4 (2002:a.b.c.d::/48).
  if (words[0] === 0x2002) return v4(words[1]!, words[2]!);
  return undefined;
}

/** The eight 16-bit words of an IPv6 address (with an embedded dotted IPv4 tail), or undefined. */
function expandIpv6(address: string): number[] | undefined {
  let text = address.replace(/%.*$/, '');
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted) {
    const parts = dotted[1]!.split('.').map(Number);
    text = `${text.slice(0, -dotted[1]!.length)}${((parts[0]! << 8) | parts[1]!).toString(16)}:${((parts[2]! << 8) | parts[3]!).toString(16)}`;
  }
  const [head, tail] = text.split('::');
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const missing = text.includes('::') ? 8 - h.length - t.length : 0;
  const words = [...h, ...Array(missing).fill('0'), ...t].map((w) => Number.parseInt(w, 16));
  return words.length === 8 && words.every((w) => Number.isInteger(w) && w >= 0 && w <= 0xffff)
    ? words
    : undefined;
}

/**
 * Why an IP address is not a public one (undefined: it is public). Anything that is not an IP
 * address at all is refused too.
 */
export function nonPublicReason(address: string): string | undefined {
  const family = isIP(address);
  if (family === 0) return 'not an IP address';
  const type = family === 4 ? 'ipv4' : 'ipv6';
  if (type === 'ipv6') {
    const v4 = embeddedIpv4(address);
    if (v4 !== undefined) {
      const why = nonPublicReason(v4);
      return why ? `${why} (${v4}, embedded in ${address})` : undefined;
    }
  }
  for (const [list, why] of blocked) if (list.check(address, type)) return why;
  return undefined;
}

/** The host of a URL as an address literal (brackets removed), or undefined for a name. */
export function addressLiteral(hostname: string): string | undefined {
  const bare = hostname.startsWith('[') && hostname.endsWith(']') ? hostname.slice(1, -1) : hostname;
  return isIP(bare) ? bare : undefined;
}
