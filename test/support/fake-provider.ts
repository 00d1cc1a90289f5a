import { createHmac, timingSafeEqual } from 'node:crypto';
import type {
  ChannelAdapter,
  ProviderEvent,
  ProviderSink,
  ProviderWebhookAnswer,
  ProviderWebhookRequest,
  SendRequest,
  SendResult,
} from '../../src/channels/channel-adapter.js';

/**
 * A provider adapter whose behaviour a test scripts, to drive the engine through the adapter
 * port the way real providers will: answering slowly or never, throwing, reporting a receipt
 * (over its sink, or as a signed callback to `/webhooks/{provider}`) before its submit answer.
 * Its callbacks are signed like Meta's: `X-Hub-Signature-256: sha256=<hex HMAC of the body>`.
 */
export class FakeProvider implements ChannelAdapter {
  readonly type = 'fake';
  readonly sent: SendRequest[] = [];
  /** What `send` does; replaced by tests. Default: accepted with reference `ref-<n>`. */
  onSend: (request: SendRequest, provider: FakeProvider) => Promise<SendResult> = async () => ({ ok: true, providerRef: this.nextRef() });
  sink: ProviderSink | undefined;
  started = false;
  closed = false;
  private refs = 0;

  constructor(
    readonly provider: string,
    readonly secret = 'fake-provider-secret',
  ) {}

  async start(sink: ProviderSink): Promise<void> {
    this.sink = sink;
    this.started = true;
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  send(request: SendRequest): Promise<SendResult> {
    this.sent.push(request);
    return this.onSend(request, this);
  }

  nextRef(): string {
    this.refs += 1;
    return `ref-${this.refs}`;
  }

  /** Callbacks: `{"receipts": [{"ref", "status", "at"}]}`, signed; anything else is refused. */
  async webhook(request: ProviderWebhookRequest): Promise<ProviderWebhookAnswer> {
    if (request.method === 'GET') return { status: 200, body: request.query['hub.challenge'] ?? '', contentType: 'text/plain', events: [] };
    const given = /^sha256=([0-9a-f]{64})$/.exec(request.headers['x-hub-signature-256'] ?? '')?.[1];
    const expected = this.sign(request.rawBody);
    if (!given || !timingSafeEqual(Buffer.from(given, 'hex'), Buffer.from(expected, 'hex'))) return { status: 401, events: [] };
    const body = JSON.parse(request.rawBody.toString('utf8')) as { receipts: Array<{ ref: string; status: 'delivered' | 'read' | 'undeliverable'; at: number }> };
    const events: ProviderEvent[] = body.receipts.map((receipt) => ({ type: 'receipt', providerRef: receipt.ref, report: { status: receipt.status, at: receipt.at } }));
    return { status: 200, body: 'EVENT_RECEIVED', contentType: 'text/plain', events };
  }

  sign(body: Buffer | string): string {
    return createHmac('sha256', this.secret).update(body).digest('hex');
  }
}

/** The peer side: the provider's own HTTP callback to the gateway. */
export async function postProviderCallback(url: string, body: unknown, signature: string | undefined): Promise<{ status: number; text: string }> {
  const raw = JSON.stringify(body);
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(signature !== undefined && { 'x-hub-signature-256': `sha256=${signature}` }) },
    body: raw,
  });
  return { status: response.status, text: await response.text() };
}
