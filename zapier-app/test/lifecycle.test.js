'use strict';
/**
 * Every trigger's REST-hook lifecycle against a real connector, with a local server standing in for
 * Zapier's hook URL: subscribe, events fired at the ingest URL reaching the hook URL, `perform` on
 * exactly those requests (valid, unsigned, tampered, during a secret rotation), samples, unsubscribe.
 */
const zapier = require('zapier-platform-core');
const App = require('..');
const appCatalog = require('../lib/catalog.json');
const { startConnector, api } = require('./support/connector');
const { startReceiver } = require('./support/receiver');
const { deliveryBundle } = require('./support/zapier');

const appTester = zapier.createAppTester(App);
const STEP = 'Reminder (day 3)'; // a custom collection step: free text

/** The error `promise` rejects with; fails the test when it resolves. */
const rejection = (promise) => promise.then((value) => { throw new Error(`expected a refusal, got ${JSON.stringify(value)}`); }, (error) => error);

describe('REST-hook lifecycle', () => {
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

  const receiver = async (status = 200) => {
    const r = await startReceiver(status);
    receivers.push(r);
    return r;
  };
  const authData = () => ({ connector_url: connector.url, api_key: connector.apiKey });
  const bundleFor = (extra) => ({ authData: authData(), ...extra });
  const held = async (id) => api(connector, 'GET', `/api/v1/hooks/${id}`);

  /**
   * One trigger's whole life: subscribe, fire `fired` (types the ingest sends), check `perform` on
   * each delivery and on forged copies, rotate the secret and check both secrets, samples, unsubscribe.
   */
  const lifecycle = async ({ operation, inputData = {}, subscribed, fired, sampleTypes }) => {
    const hook = await receiver();
    const subscription = await appTester(operation.performSubscribe, bundleFor({ targetUrl: hook.url, inputData }));
    expect(subscription).toMatchObject({ id: expect.any(String), secret: expect.stringMatching(/^whsec_/), status: 'active' });
    expect((await held(subscription.id)).body.events).toEqual(subscribed);

    for (const [index, type] of fired.entries()) {
      await connector.fire(type);
      const captured = await hook.nth(index + 1);
      const events = await appTester(operation.perform, deliveryBundle(authData(), captured, subscription));
      expect(events).toEqual([JSON.parse(captured.content)]);
      expect(events[0]).toMatchObject({ id: captured.headers['webhook-id'], type });
    }

    const captured = hook.requests[0];
    const event = JSON.parse(captured.content);
    const tampered = JSON.stringify({ ...event, data: { ...event.data, modifiedUser: 'mallory' } });
    const forged = await rejection(appTester(operation.perform, deliveryBundle(authData(), captured, subscription, tampered)));
    expect(forged.name).toBe('HaltedError');
    expect(forged.message).toMatch(/signature does not match/);
    const unsigned = { ...captured, headers: { 'content-type': 'application/json' } };
    const stranger = await rejection(appTester(operation.perform, deliveryBundle(authData(), unsigned, subscription)));
    expect(stranger.name).toBe('HaltedError');
    expect(stranger.message).toMatch(/without a signature/);

    const rotated = await api(connector, 'POST', `/api/v1/hooks/${subscription.id}/rotate-secret`);
    expect(rotated.status).toBe(200);
    await connector.fire(fired[0]);
    const during = await hook.nth(fired.length + 1);
    expect(during.headers['webhook-signature'].split(' ')).toHaveLength(2);
    for (const secret of [subscription.secret, rotated.body.secret]) {
      const events = await appTester(operation.perform, deliveryBundle(authData(), during, { ...subscription, secret }));
      expect(events.map((e) => e.id)).toEqual([during.headers['webhook-id']]);
    }

    const samples = await appTester(operation.performList, bundleFor({ inputData, meta: { isLoadingSample: true } }));
    expect(samples.length).toBeGreaterThanOrEqual(1);
    expect(samples.length).toBeLessThanOrEqual(3);
    for (const sample of samples) {
      expect(sample).toEqual({ id: expect.any(String), type: expect.any(String), timestamp: expect.any(String), data: expect.any(Object) });
      expect(sampleTypes(sample.type)).toBe(true);
    }
    expect(samples.map((s) => s.id)).toContain(during.headers['webhook-id']);

    expect(await appTester(operation.performUnsubscribe, bundleFor({ subscribeData: subscription }))).toEqual({ id: subscription.id, removed: true });
    expect((await held(subscription.id)).status).toBe(410);
  };

  describe.each(appCatalog.everyday.map((entry) => [entry.label, entry]))('%s', (label, entry) => {
    const { operation } = App.triggers[entry.key];
    if (entry.actionPattern) {
      test('subscribes to the step it is given, and takes its deliveries', () => lifecycle({
        operation,
        inputData: { step: STEP },
        subscribed: [`collection.${STEP}`],
        fired: [`collection.${STEP}`],
        sampleTypes: (type) => type === `collection.${STEP}`,
      }));
      test('without a step, takes every collection event', () => lifecycle({
        operation,
        subscribed: entry.events,
        fired: ['collection.send_reminder_sms', 'collection.in_collection'],
        sampleTypes: (type) => type.startsWith('collection.'),
      }));
    } else {
      test(`subscribes to ${entry.events.join(', ')} and takes their deliveries`, () => lifecycle({
        operation,
        subscribed: entry.events,
        fired: entry.events,
        sampleTypes: (type) => entry.events.includes(type),
      }));
    }
  });

  describe('New BillRun Event', () => {
    const { operation } = App.triggers.new_event;

    test('with several chosen types: a single type, a trackchanges group, a module and a custom step', () => {
      const chosen = ['bills.afterChargeSuccess', 'accounts.trackchanges', 'subscribers.*', `collection.${STEP}`];
      return lifecycle({
        operation,
        inputData: { event_types: chosen },
        subscribed: chosen,
        fired: ['bills.afterChargeSuccess', 'accounts.close', 'subscribers.move', `collection.${STEP}`],
        sampleTypes: (type) => type === 'bills.afterChargeSuccess' || type.startsWith('accounts.') || type.startsWith('subscribers.') || type === `collection.${STEP}`,
      });
    });

    test('with every event', () => lifecycle({
      operation,
      inputData: { event_types: ['*'] },
      subscribed: ['*'],
      fired: ['plans.create', 'balances.afterBalanceUpdate'],
      sampleTypes: () => true,
    }));

    test('says which chosen type the connector refuses, and needs at least one', async () => {
      const hook = await receiver();
      const error = await rejection(appTester(operation.performSubscribe, bundleFor({ targetUrl: hook.url, inputData: { event_types: ['subscribers.update', 'nope.nothing'] } })));
      expect(error.message).toMatch(/The BillRun connector refused the subscription: .*nope\.nothing/);
      await expect(appTester(operation.performSubscribe, bundleFor({ targetUrl: hook.url, inputData: { event_types: [] } })))
        .rejects.toThrow(/Choose at least one event type/);
    });

    test('its dropdown lists the connector\'s types, every event first, never-fired ones left out', async () => {
      const choices = await appTester(App.triggers.event_type_choices.operation.perform, bundleFor({ meta: { page: 0 } }));
      expect(choices[0]).toEqual({ id: '*', label: 'Any BillRun Event (*)' });
      const ids = choices.map((choice) => choice.id);
      expect(ids).toEqual(expect.arrayContaining(['subscribers.update', 'subscribers.trackchanges', 'bills.*', 'collection.*', 'collection.in_collection']));
      expect(ids).not.toContain('balances.afterBalanceCreation');
      expect(ids).not.toContain('users.changepassword');
      expect(choices.find((choice) => choice.id === 'subscribers.update').label).toBe('Subscriber Updated (subscribers.update)');
      expect(await appTester(App.triggers.event_type_choices.operation.perform, bundleFor({ meta: { page: 1 } }))).toEqual([]);
    });
  });

  describe('unsubscribe', () => {
    const { operation } = App.triggers.new_subscriber;

    test('counts a subscription that is already gone (410) as removed', async () => {
      const hook = await receiver();
      const subscription = await appTester(operation.performSubscribe, bundleFor({ targetUrl: hook.url }));
      expect(await appTester(operation.performUnsubscribe, bundleFor({ subscribeData: subscription }))).toEqual({ id: subscription.id, removed: true });
      expect(await appTester(operation.performUnsubscribe, bundleFor({ subscribeData: subscription })))
        .toEqual({ id: subscription.id, removed: true, alreadyGone: true, detail: expect.stringMatching(/already removed/) });
    });

    test('with a key that cannot see the subscription fails, saying so, and the subscription stays', async () => {
      const hook = await receiver();
      const subscription = await appTester(operation.performSubscribe, bundleFor({ targetUrl: hook.url }));
      const otherKey = await connector.createKey('globex');
      const error = await rejection(appTester(operation.performUnsubscribe, { authData: { ...authData(), api_key: otherKey }, subscribeData: subscription }));
      expect(error.message).toMatch(new RegExp(`no subscription ${subscription.id} that this connection's API key can see .*nothing was removed`));
      expect((await held(subscription.id)).body.status).toBe('active');
      await appTester(operation.performUnsubscribe, bundleFor({ subscribeData: subscription }));
    });

    test('without a subscription id fails', async () => {
      await expect(appTester(operation.performUnsubscribe, bundleFor({ subscribeData: {} }))).rejects.toThrow(/no BillRun subscription id/);
    });
  });

  test('subscribing removes what an earlier subscription of the same hook URL left behind', async () => {
    const { operation } = App.triggers.new_payment;
    const hook = await receiver();
    const neighbour = await receiver();
    const other = await appTester(operation.performSubscribe, bundleFor({ targetUrl: neighbour.url }));
    const first = await appTester(operation.performSubscribe, bundleFor({ targetUrl: hook.url }));
    const second = await appTester(operation.performSubscribe, bundleFor({ targetUrl: hook.url }));
    expect((await held(first.id)).status).toBe(410);
    expect((await held(other.id)).status).toBe(200);
    const listed = await api(connector, 'GET', `/api/v1/hooks?target_url=${encodeURIComponent(hook.url)}`);
    expect(listed.body.data.map((h) => h.id)).toEqual([second.id]);
    for (const subscription of [second, other]) {
      await appTester(operation.performUnsubscribe, bundleFor({ subscribeData: subscription }));
    }
  });

  test('a hook URL answering 410 Gone makes the connector disable the subscription', async () => {
    const { operation } = App.triggers.updated_subscriber;
    const hook = await receiver(410);
    const subscription = await appTester(operation.performSubscribe, bundleFor({ targetUrl: hook.url }));
    await connector.fire('subscribers.update');
    await hook.nth(1);
    let body;
    for (let i = 0; i < 100 && !(body && body.status === 'disabled'); i += 1) {
      await new Promise((resolve) => { setTimeout(resolve, 100); });
      ({ body } = await held(subscription.id));
    }
    expect(body).toMatchObject({ status: 'disabled', disabled_reason: 'gone' });
  });
});

describe('after a secret rotation\'s grace period', () => {
  let connector;
  let hook;

  beforeAll(async () => {
    connector = await startConnector({ settings: { ROTATION_GRACE_SECONDS: '0' } });
    hook = await startReceiver(200);
  });

  afterAll(async () => {
    if (hook) {
      await hook.close();
    }
    if (connector) {
      await connector.stop();
    }
  });

  test('perform tells the Zap owner to turn the Zap off and on, as its secret signs nothing any more', async () => {
    const authData = { connector_url: connector.url, api_key: connector.apiKey };
    const { operation } = App.triggers.new_subscriber;
    const subscription = await appTester(operation.performSubscribe, { authData, targetUrl: hook.url });
    const rotated = await api(connector, 'POST', `/api/v1/hooks/${subscription.id}/rotate-secret`);
    await connector.fire('subscribers.create');
    const captured = await hook.nth(1);
    expect(captured.headers['webhook-signature'].split(' ')).toHaveLength(1);
    const error = await rejection(appTester(operation.perform, deliveryBundle(authData, captured, subscription)));
    expect(error.name).not.toBe('HaltedError');
    expect(error.message).toMatch(/rotated this Zap's subscription secret at .*Turn the Zap off and on again/);
    expect(await appTester(operation.perform, deliveryBundle(authData, captured, { ...subscription, secret: rotated.body.secret })))
      .toEqual([JSON.parse(captured.content)]);
  });
});
