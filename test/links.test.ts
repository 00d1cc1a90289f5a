/**
 * Links (DESIGN §4): PUT/DELETE/GET /v2/applications/{id}/links/…, Basic auth; and inbound
 * routing by them (DESIGN §3): a link first, then the application of the last outbound message
 * of that conversation, then the account's default inbound URL. The sandbox's inbound messages
 * follow the same rule.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createApplication, postJson, type TestApplication } from './support/api-client.js';
import { FakeProvider } from './support/fake-provider.js';
import { startTestServer, type TestServer } from './support/test-server.js';
import { WebhookReceiver } from './support/webhook-receiver.js';

const BUSINESS = '447700900001';

describe('links', () => {
  let server: TestServer;
  let receiver: WebhookReceiver;
  let first: TestApplication;
  let second: TestApplication;
  /** Only for its sink: inbound messages as a real provider reports them, without an account. */
  const provider = new FakeProvider('carrier');

  before(async () => {
    receiver = await new WebhookReceiver().start();
    server = await startTestServer({ clock: 'virtual', inboundUrl: `${receiver.url}/account-inbound`, providers: [{ adapter: provider, channels: ['viber_service_msg'] }] });
    first = await createApplication(server.url, server.basicAuth, { statusUrl: `${receiver.url}/first/status`, inboundUrl: `${receiver.url}/first/inbound` });
    second = await createApplication(server.url, server.basicAuth, { statusUrl: `${receiver.url}/second/status`, inboundUrl: `${receiver.url}/second/inbound` });
  });
  after(async () => {
    await server.close();
    await receiver.close();
  });

  const call = async (method: string, path: string, authorization = server.basicAuth) => {
    const response = await fetch(`${server.url}${path}`, { method, headers: { authorization } });
    const text = await response.text();
    return { status: response.status, json: text === '' ? undefined : JSON.parse(text), text };
  };
  const links = (application: TestApplication) => call('GET', `/v2/applications/${application.id}/links`);

  test('a link is put (204), listed, and deleted (204); a second PUT moves it, not doubles it', async () => {
    assert.equal((await call('PUT', `/v2/applications/${first.id}/links/sms/%2B447700900555`)).status, 204);
    assert.equal((await call('PUT', `/v2/applications/${first.id}/links/messenger/107083064136738`)).status, 204);
    assert.deepEqual((await links(first)).json, {
      links: [
        { channel: 'messenger', address: '107083064136738', application_id: first.id },
        { channel: 'sms', address: '447700900555', application_id: first.id },
      ],
    });
    assert.equal((await call('PUT', `/v2/applications/${second.id}/links/sms/447700900555`)).status, 204, 'the account moves its own link');
    assert.deepEqual((await links(first)).json.links.map((link: any) => link.channel), ['messenger']);
    assert.deepEqual((await links(second)).json.links, [{ channel: 'sms', address: '447700900555', application_id: second.id }]);
    assert.equal((await call('DELETE', `/v2/applications/${second.id}/links/sms/447700900555`)).status, 204);
    assert.equal((await call('DELETE', `/v2/applications/${second.id}/links/sms/447700900555`)).status, 404);
    assert.deepEqual((await links(second)).json, { links: [] });
  });

  test('a bad channel or address is a 400 naming it; an unknown or foreign application a 404; another account’s address a 409', async () => {
    const badChannel = await call('PUT', `/v2/applications/${first.id}/links/fax/447700900556`);
    assert.equal(badChannel.status, 400);
    assert.deepEqual(badChannel.json.invalid_parameters.map((parameter: any) => parameter.name), ['channel']);
    const badAddress = await call('PUT', `/v2/applications/${first.id}/links/sms/${encodeURIComponent('<b>1</b>')}`);
    assert.equal(badAddress.status, 400);
    assert.doesNotMatch(badAddress.text, /<b>/, 'the value is not echoed');
    assert.equal((await call('PUT', '/v2/applications/00000000-0000-0000-0000-000000000000/links/sms/447700900556')).status, 404);
    assert.equal((await call('GET', '/v2/applications/00000000-0000-0000-0000-000000000000/links')).status, 404);
    assert.equal((await call('PUT', `/v2/applications/${first.id}/links/sms/447700900556`, 'Basic bm9ib2R5Om5vdGhpbmc=')).status, 401);

    const other = await server.createAccount();
    const theirs = await createApplication(server.url, other.basicAuth, { statusUrl: `${receiver.url}/x`, inboundUrl: `${receiver.url}/y` });
    assert.equal((await call('GET', `/v2/applications/${first.id}/links`, other.basicAuth)).status, 404, 'not visible to another account');
    assert.equal((await call('PUT', `/v2/applications/${theirs.id}/links/sms/447700900557`, other.basicAuth)).status, 204);
    const taken = await call('PUT', `/v2/applications/${first.id}/links/sms/447700900557`);
    assert.equal(taken.status, 409);
    assert.doesNotMatch(taken.text, new RegExp(theirs.id), 'the other application is not named');
  });

  test('deleting an application deletes its links', async () => {
    const doomed = await createApplication(server.url, server.basicAuth, { statusUrl: `${receiver.url}/d/status`, inboundUrl: `${receiver.url}/d/inbound` });
    assert.equal((await call('PUT', `/v2/applications/${doomed.id}/links/whatsapp/447700900558`)).status, 204);
    assert.equal((await call('DELETE', `/v2/applications/${doomed.id}`)).status, 204);
    assert.equal(await server.store.findLink('whatsapp', '447700900558'), undefined);
  });

  test('a tenant cannot take another’s address: no link to a number another account sends from, and a link never takes another account’s conversations', async () => {
    const owner = await server.createAccount();
    const ownerApp = await createApplication(server.url, owner.basicAuth, { statusUrl: `${receiver.url}/owner/status`, inboundUrl: `${receiver.url}/owner/inbound` });
    const squatter = await server.createAccount();
    const squatterApp = await createApplication(server.url, squatter.basicAuth, { statusUrl: `${receiver.url}/squatter/status`, inboundUrl: `${receiver.url}/squatter/inbound` });
    const sendFrom = async (from: string, to: string) => {
      const sent = await postJson(`${server.url}/v0.1/messages`, await ownerApp.bearer(), { to: { type: 'sms', number: to }, from: { type: 'sms', number: from }, message: { content: { type: 'text', text: 'hi' } } });
      assert.equal(sent.status, 202);
      await receiver.waitFor((webhook) => webhook.path === '/owner/status' && webhook.json.message_uuid === sent.json.message_uuid);
    };
    await sendFrom('447700900700', '447700900701');
    assert.equal((await call('PUT', `/v2/applications/${squatterApp.id}/links/sms/447700900700`, squatter.basicAuth)).status, 409, 'in use by another account');
    assert.equal((await call('PUT', `/v2/applications/${ownerApp.id}/links/sms/447700900700`, owner.basicAuth)).status, 204, 'the account that sends from it may');

    // A link made before the owner's first message routes users nobody wrote to, never the owner's conversations.
    assert.equal((await call('PUT', `/v2/applications/${squatterApp.id}/links/sms/447700900710`, squatter.basicAuth)).status, 204);
    await sendFrom('447700900710', '447700900711');
    // As a real provider reports it: naming no account.
    await provider.sink!.inbound({ channel: 'sms', to: { type: 'sms', number: '447700900710' }, from: { type: 'sms', number: '447700900711' }, message: { content: { type: 'text', text: 'reply' } }, at: server.clock!.now() });
    await receiver.waitFor((webhook) => webhook.path === '/owner/inbound' && webhook.json.from?.number === '447700900711');
    assert.equal(receiver.matching((webhook) => webhook.path === '/squatter/inbound').length, 0);
  });

  test('inbound goes to the linked application first, even when another application wrote to the user last', async () => {
    const user = '447700900600';
    // `first` writes to the user from BUSINESS: the conversation rule would pick it.
    const sent = await postJson(`${server.url}/v0.1/messages`, await first.bearer(), { to: { type: 'sms', number: user }, from: { type: 'sms', number: BUSINESS }, message: { content: { type: 'text', text: 'hi' } } });
    assert.equal(sent.status, 202);
    await receiver.waitFor((webhook) => webhook.path === '/first/status' && webhook.json.message_uuid === sent.json.message_uuid);

    const reply = () => postJson(`${server.url}/sandbox/inbound`, server.basicAuth, { channel: 'sms', from: user, to: BUSINESS, text: 'reply' });
    assert.equal((await reply()).status, 202);
    await receiver.waitFor((webhook) => webhook.path === '/first/inbound' && webhook.json.from?.number === user);

    assert.equal((await call('PUT', `/v2/applications/${second.id}/links/sms/${BUSINESS}`)).status, 204);
    assert.equal((await reply()).status, 202);
    await receiver.waitFor((webhook) => webhook.path === '/second/inbound' && webhook.json.from?.number === user);
    // And a user nobody wrote to reaches the linked application too, not the account default.
    assert.equal((await postJson(`${server.url}/sandbox/inbound`, server.basicAuth, { channel: 'sms', from: '447700900601', to: BUSINESS, text: 'new here' })).status, 202);
    await receiver.waitFor((webhook) => webhook.path === '/second/inbound' && webhook.json.from?.number === '447700900601');
    assert.equal(receiver.matching((webhook) => webhook.path === '/account-inbound').length, 0);

    assert.equal((await call('DELETE', `/v2/applications/${second.id}/links/sms/${BUSINESS}`)).status, 204);
    assert.equal((await reply()).status, 202);
    await receiver.waitFor((webhook) => webhook.path === '/first/inbound' && webhook.json.from?.number === user, 2);
  });
});
