import { createHmac } from 'node:crypto';

/**
 * What the Messenger and WhatsApp fakes share, as Meta's platforms do (channels reference §1.5):
 * event notifications signed over their exact bytes with the app secret, and the GET
 * subscription handshake. Meta gives up on a webhook after 20 s.
 */
const WEBHOOK_TIMEOUT_MS = 20_000;

export type SignatureMode = 'valid' | 'forged' | 'missing';

function sign(raw: Buffer, secret: string, algorithm: 'sha256' | 'sha1'): string {
  return `${algorithm}=${createHmac(algorithm, secret).update(raw).digest('hex')}`;
}

/** POSTs one notification; resolves with the status the gateway answered. */
export async function postMetaEvent(url: string, body: unknown, appSecret: string, signature: SignatureMode = 'valid', headers: Record<string, string> = {}): Promise<number> {
  const raw = Buffer.isBuffer(body) ? body : Buffer.from(typeof body === 'string' ? body : JSON.stringify(body), 'utf8');
  const sent: Record<string, string> = { 'content-type': 'application/json', ...headers };
  if (signature !== 'missing') {
    const secret = signature === 'valid' ? appSecret : `${appSecret}-forged`;
    sent['x-hub-signature-256'] = sign(raw, secret, 'sha256');
    // Meta still sends the legacy SHA-1 header alongside.
    sent['x-hub-signature'] = sign(raw, secret, 'sha1');
  }
  const response = await fetch(url, { method: 'POST', headers: sent, body: raw, signal: AbortSignal.timeout(WEBHOOK_TIMEOUT_MS) });
  await response.arrayBuffer();
  return response.status;
}

/** Meta's subscription handshake (GET with hub.mode / hub.verify_token / hub.challenge). */
export async function metaHandshake(url: string, token: string, challenge: string): Promise<{ status: number; body: string }> {
  const target = new URL(url);
  target.searchParams.set('hub.mode', 'subscribe');
  target.searchParams.set('hub.verify_token', token);
  target.searchParams.set('hub.challenge', challenge);
  const response = await fetch(target, { signal: AbortSignal.timeout(WEBHOOK_TIMEOUT_MS) });
  return { status: response.status, body: await response.text() };
}
