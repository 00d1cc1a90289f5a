import { generateApplicationJwt } from '../../src/cli/generate-jwt.js';

/** Small helpers for talking to a test server the way a user's script would. */

export async function postJson(url: string, authorization: string, body: unknown): Promise<{ status: number; json: any; headers: Headers }> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { authorization, 'content-type': 'application/json', accept: 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, json: text ? JSON.parse(text) : undefined, headers: response.headers };
}

export async function putJson(url: string, authorization: string, body: unknown): Promise<{ status: number; json: any }> {
  const response = await fetch(url, { method: 'PUT', headers: { authorization, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: response.status, json: await response.json() };
}

export async function getJson(url: string, authorization: string): Promise<{ status: number; json: any }> {
  const response = await fetch(url, { headers: { authorization } });
  return { status: response.status, json: await response.json() };
}

export interface TestApplication {
  id: string;
  privateKey: string;
  /** A fresh `Bearer …` header value for this application. */
  bearer(): Promise<string>;
}

/** Creates an application with messages webhooks through the Applications API. */
export async function createApplication(baseUrl: string, basicAuth: string, webhooks: { statusUrl: string; inboundUrl: string }): Promise<TestApplication> {
  const { status, json } = await postJson(`${baseUrl}/v2/applications`, basicAuth, {
    name: 'test app',
    capabilities: {
      messages: {
        webhooks: {
          inbound_url: { address: webhooks.inboundUrl, http_method: 'POST' },
          status_url: { address: webhooks.statusUrl, http_method: 'POST' },
        },
      },
    },
  });
  if (status !== 201) throw new Error(`creating the application failed: ${status} ${JSON.stringify(json)}`);
  const privateKey = json.keys.private_key as string;
  return {
    id: json.id,
    privateKey,
    bearer: async () => `Bearer ${await generateApplicationJwt({ privateKeyPem: privateKey, applicationId: json.id })}`,
  };
}

export async function advanceClock(baseUrl: string, basicAuth: string, seconds: number): Promise<void> {
  const { status } = await postJson(`${baseUrl}/sandbox/clock/advance`, basicAuth, { seconds });
  if (status !== 200) throw new Error(`advancing the clock failed: ${status}`);
}

/**
 * Polls `GET /v0.1/messages/{uuid}` until the message's status is one of `statuses`. With
 * `advanceSeconds`, the virtual clock moves on that much now and then while waiting, so that
 * retries with backoff come due.
 */
export async function waitForMessage(server: { url: string; basicAuth: string }, uuid: string, statuses: string[], { advanceSeconds = 0 } = {}): Promise<any> {
  let found: any;
  for (let i = 0; i < 500; i += 1) {
    found = (await getJson(`${server.url}/v0.1/messages/${uuid}`, server.basicAuth)).json;
    if (statuses.includes(found.status)) return found;
    if (advanceSeconds > 0 && i % 5 === 4) await advanceClock(server.url, server.basicAuth, advanceSeconds);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`message ${uuid} never reached ${statuses.join('/')}: ${JSON.stringify(found)}`);
}
