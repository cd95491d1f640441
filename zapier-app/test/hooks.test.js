'use strict';
/**
 * The REST-hook lifecycle against a real connector: subscribe, a fired event reaching a local
 * receiver in Zapier's place, `perform` on exactly that request, samples, unsubscribe, and a 410
 * from the receiver disabling the subscription.
 */
const zapier = require('zapier-platform-core');
const App = require('..');
const catalog = require('../lib/catalog.json');
const { startConnector, api, waitFor } = require('./support/connector');
const { startReceiver, asZapierRawRequest } = require('./support/receiver');

const appTester = zapier.createAppTester(App);
const entryOf = (predicate) => catalog.events.find(predicate);
const triggerOf = (entry) => App.triggers[entry.key].operation;

const UPDATE = entryOf((e) => e.type === 'subscribers.update');
const TRACKCHANGES = entryOf((e) => e.type === 'subscribers.trackchanges');
const FAMILY = entryOf((e) => Boolean(e.actionPattern));

describe('REST hooks', () => {
  let connector;
  const receivers = [];

  beforeAll(async () => {
    connector = await startConnector();
  });

  afterAll(async () => {
    await Promise.all(receivers.map((r) => r.close()));
    if (connector) {
      await connector.stop();
    }
  });

  const receiver = async (status) => {
    const r = await startReceiver(status);
    receivers.push(r);
    return r;
  };
  const bundleFor = (extra) => ({ authData: { connector_url: connector.url, api_key: connector.apiKey }, ...extra });

  /** What Zapier would hand `perform` for a request its hook URL received. */
  const deliveryBundle = (captured, subscribeData, content = captured.content) => {
    const raw = asZapierRawRequest({ ...captured, content });
    let cleaned;
    try {
      cleaned = { ...JSON.parse(content), querystring: {} };
    } catch (error) {
      cleaned = { querystring: {} };
    }
    return bundleFor({ subscribeData, rawRequest: raw, cleanedRequest: cleaned });
  };

  describe('one subscription through its whole life', () => {
    let hook;
    let subscription;
    let captured;

    beforeAll(async () => {
      hook = await receiver(200);
    });

    test('subscribe returns the flat subscription with its id and signing secret', async () => {
      subscription = await appTester(triggerOf(UPDATE).performSubscribe, bundleFor({ targetUrl: hook.url }));
      expect(subscription.id).toEqual(expect.any(String));
      expect(subscription.secret).toMatch(/^whsec_/);
    });

    test('the connector holds it', async () => {
      const { status, body } = await api(connector, 'GET', `/api/v1/hooks/${subscription.id}`);
      expect(status).toBe(200);
      expect(body).toMatchObject({ id: subscription.id, target_url: hook.url, status: 'active' });
      expect(body.events).toEqual(['subscribers.update']);
    });

    test('an event fired at the ingest URL reaches the hook URL, signed', async () => {
      await connector.fire('subscribers.update');
      captured = await hook.nth(1);
      expect(captured.method).toBe('POST');
      expect(captured.headers['webhook-signature']).toMatch(/^v1,/);
    });

    test('perform on exactly that request returns the event', async () => {
      const events = await appTester(triggerOf(UPDATE).perform, deliveryBundle(captured, subscription));
      expect(events).toHaveLength(1);
      expect(events[0]).toEqual(JSON.parse(captured.content));
      expect(events[0]).toMatchObject({ id: captured.headers['webhook-id'], type: 'subscribers.update' });
      expect(Object.keys(events[0]).sort()).toEqual(['data', 'id', 'timestamp', 'type']);
    });

    test('perform drops the same request with a tampered body', async () => {
      const event = JSON.parse(captured.content);
      const tampered = JSON.stringify({ ...event, data: { ...event.data, modifiedUser: 'mallory' } });
      expect(await appTester(triggerOf(UPDATE).perform, deliveryBundle(captured, subscription, tampered))).toEqual([]);
    });

    test('perform drops the request when checked against another subscription\'s secret', async () => {
      const other = { ...subscription, secret: `whsec_${Buffer.alloc(32, 7).toString('base64')}` };
      expect(await appTester(triggerOf(UPDATE).perform, deliveryBundle(captured, other))).toEqual([]);
    });

    test('performList returns samples shaped like deliveries, each with an id', async () => {
      const samples = await appTester(triggerOf(UPDATE).performList, bundleFor({ meta: { isLoadingSample: true } }));
      expect(samples.length).toBeGreaterThanOrEqual(1);
      expect(samples.length).toBeLessThanOrEqual(3);
      for (const sample of samples) {
        expect(sample).toEqual({ id: expect.any(String), type: 'subscribers.update', timestamp: expect.any(String), data: expect.any(Object) });
      }
      expect(samples.map((s) => s.id)).toContain(captured.headers['webhook-id']);
    });

    test('unsubscribe removes it, and a second unsubscribe counts it as already gone', async () => {
      const bundle = bundleFor({ subscribeData: subscription });
      expect(await appTester(triggerOf(UPDATE).performUnsubscribe, bundle)).toMatchObject({ removed: true, alreadyGone: false });
      expect((await api(connector, 'GET', `/api/v1/hooks/${subscription.id}`)).status).toBe(404);
      expect(await appTester(triggerOf(UPDATE).performUnsubscribe, bundle)).toMatchObject({ removed: true, alreadyGone: true });
    });
  });

  test('a trackchanges trigger receives every change action of its entity', async () => {
    const hook = await receiver(200);
    const subscription = await appTester(triggerOf(TRACKCHANGES).performSubscribe, bundleFor({ targetUrl: hook.url }));
    expect((await api(connector, 'GET', `/api/v1/hooks/${subscription.id}`)).body.events).toEqual(['subscribers.trackchanges']);
    await connector.fire('subscribers.update');
    const captured = await hook.nth(1);
    const events = await appTester(triggerOf(TRACKCHANGES).perform, deliveryBundle(captured, subscription));
    expect(events.map((e) => e.type)).toEqual(['subscribers.update']);
    const samples = await appTester(triggerOf(TRACKCHANGES).performList, bundleFor({}));
    expect(samples.length).toBeGreaterThanOrEqual(1);
    expect(samples.every((sample) => sample.id && TRACKCHANGES.expandsTo.includes(sample.type))).toBe(true);
    await appTester(triggerOf(TRACKCHANGES).performUnsubscribe, bundleFor({ subscribeData: subscription }));
  });

  test('the collection trigger subscribes to the step it is given, or to every collection event', async () => {
    const hook = await receiver(200);
    const operation = triggerOf(FAMILY);
    const one = await appTester(operation.performSubscribe, bundleFor({ targetUrl: hook.url, inputData: { step: 'send_reminder_sms' } }));
    expect((await api(connector, 'GET', `/api/v1/hooks/${one.id}`)).body.events).toEqual(['collection.send_reminder_sms']);
    const any = await appTester(operation.performSubscribe, bundleFor({ targetUrl: hook.url, inputData: {} }));
    expect((await api(connector, 'GET', `/api/v1/hooks/${any.id}`)).body.events).toEqual([FAMILY.type]);
    await expect(appTester(operation.performSubscribe, bundleFor({ targetUrl: hook.url, inputData: { step: 'bad\u0007step' } })))
      .rejects.toThrow(/not a collection step name/);
    const samples = await appTester(operation.performList, bundleFor({ inputData: { step: 'send_reminder_sms' } }));
    expect(samples.length).toBeGreaterThanOrEqual(1);
    expect(samples.every((sample) => sample.id && sample.type.startsWith('collection.'))).toBe(true);
    for (const subscription of [one, any]) {
      await appTester(operation.performUnsubscribe, bundleFor({ subscribeData: subscription }));
    }
  });

  test('while the connector rotates the secret, perform accepts deliveries under the old and the new one', async () => {
    const hook = await receiver(200);
    const subscription = await appTester(triggerOf(UPDATE).performSubscribe, bundleFor({ targetUrl: hook.url }));
    const rotated = await api(connector, 'POST', `/api/v1/hooks/${subscription.id}/rotate-secret`);
    expect(rotated.status).toBe(200);
    expect(rotated.body.secret).not.toBe(subscription.secret);
    await connector.fire('subscribers.update');
    const captured = await hook.nth(1);
    expect(captured.headers['webhook-signature'].split(' ')).toHaveLength(2);
    for (const secret of [subscription.secret, rotated.body.secret]) {
      const events = await appTester(triggerOf(UPDATE).perform, deliveryBundle(captured, { ...subscription, secret }));
      expect(events.map((e) => e.id)).toEqual([captured.headers['webhook-id']]);
    }
    await appTester(triggerOf(UPDATE).performUnsubscribe, bundleFor({ subscribeData: subscription }));
  });

  test('a hook URL answering 410 Gone makes the connector disable the subscription', async () => {
    const hook = await receiver(410);
    const subscription = await appTester(triggerOf(UPDATE).performSubscribe, bundleFor({ targetUrl: hook.url }));
    await connector.fire('subscribers.update');
    await hook.nth(1);
    const held = await waitFor(async () => {
      const { body } = await api(connector, 'GET', `/api/v1/hooks/${subscription.id}`);
      return body && body.status === 'disabled' ? body : null;
    }, 20000, 'the subscription to be disabled');
    expect(held.disabled_reason).toBe('gone');
  });
});
