import ipaddr from 'ipaddr.js';
import { DEFAULT_ALLOW_NETWORKS } from '../core/webhook-targets.js';

/**
 * Which addresses webhooks may connect to (DESIGN §3 "Webhook addresses"). A tenant chooses its
 * webhook URLs, so without this it could make the gateway POST to cloud metadata services or
 * to services listening on the gateway's own loopback and private networks, and read from the
 * recorded outcomes which of them answer.
 *
 * - link-local and cloud metadata addresses: always refused;
 * - anything but public unicast (loopback, private, unique-local, shared, reserved …): refused
 *   unless `webhooks.allow_networks` lists a network that holds it (default: loopback only, so a
 *   receiver on the same laptop works).
 *
 * Reasons name the kind of address and the setting, never the address or name the tenant gave.
 */
export type AddressVerdict = { allowed: true } | { allowed: false; reason: string };


/** Metadata services that sit outside the link-local ranges (AWS's IPv6 one, Alibaba's). */
const METADATA_ADDRESSES = ['fd00:ec2::254', '100.100.100.200'].map((text) => ipaddr.parse(text).toNormalizedString());
/** Names of metadata services, refused when an application names them (they resolve to link-local). */
const METADATA_NAMES = new Set(['metadata.google.internal', 'metadata.goog', 'metadata', 'instance-data', 'instance-data.ec2.internal']);

const KIND_NAMES: Record<string, string> = {
  loopback: 'a loopback',
  private: 'a private',
  uniqueLocal: 'a unique-local',
  carrierGradeNat: 'a shared (carrier-grade NAT)',
  unspecified: 'an unspecified',
  broadcast: 'a broadcast',
  multicast: 'a multicast',
};

export class WebhookAddressPolicy {
  private readonly allowed: Array<[ipaddr.IPv4 | ipaddr.IPv6, number]>;

  /** `allowNetworks` in CIDR notation, as the config schema checked them. */
  constructor(allowNetworks: readonly string[] = DEFAULT_ALLOW_NETWORKS) {
    this.allowed = allowNetworks.map((network) => ipaddr.parseCIDR(network));
  }

  /** The verdict on one IP address (as DNS or a URL gives it). */
  check(address: string): AddressVerdict {
    let parsed: ipaddr.IPv4 | ipaddr.IPv6;
    try {
      parsed = ipaddr.parse(address);
    } catch {
      return { allowed: false, reason: 'the address cannot be read' };
    }
    // ::ffff:127.0.0.1 reaches 127.0.0.1: judge the IPv4 address it carries.
    if (parsed.kind() === 'ipv6' && (parsed as ipaddr.IPv6).isIPv4MappedAddress()) parsed = (parsed as ipaddr.IPv6).toIPv4Address();
    const range = parsed.range();
    if (range === 'linkLocal' || METADATA_ADDRESSES.includes(parsed.toNormalizedString())) {
      return { allowed: false, reason: 'it is a link-local or cloud metadata address, which webhooks never reach' };
    }
    if (range === 'unicast') return { allowed: true };
    if (this.allowed.some(([network, bits]) => network.kind() === parsed.kind() && parsed.match(network, bits))) return { allowed: true };
    return { allowed: false, reason: `it is ${KIND_NAMES[range] ?? 'a reserved'} address, which webhooks.allow_networks does not list` };
  }

  /**
   * The verdict on a URL's host as written: an IP literal is judged now (connecting to one asks
   * no DNS, so the lookup guard never sees it), `localhost` names loopback (RFC 6761), metadata
   * names are refused. Any other name is judged on every attempt, once it has been resolved.
   */
  checkHost(hostname: string): AddressVerdict {
    const host = hostname.startsWith('[') && hostname.endsWith(']') ? hostname.slice(1, -1) : hostname;
    if (ipaddr.isValid(host)) return this.check(host);
    const name = host.toLowerCase().replace(/\.$/, '');
    if (name === 'localhost' || name.endsWith('.localhost')) return this.check('127.0.0.1');
    if (METADATA_NAMES.has(name)) return { allowed: false, reason: 'it names a cloud metadata service, which webhooks never reach' };
    return { allowed: true };
  }
}
