'use strict';
/**
 * The Standard Webhooks check, measured against the `standardwebhooks` reference library, and what
 * `perform` does with signed, unsigned, forged and malformed requests.
 */
const crypto = require('crypto');
const zapier = require('zapier-platform-core');
const { Webhook } = require('standardwebhooks');
const App = require('..');
const { webhookHeaders, isValidSignature } = require('../lib/signature');

const appTester = zapier.createAppTester(App);
const perform = App.triggers.new_subscriber.operation.perform;

// The Standard Webhooks golden vector (also used by the Python and Svix libraries).
const GOLDEN = {
  secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
  headers: {
    'webhook-id': 'msg_p5jXN8AQM9LWM0D4loKWxJek',
    'webhook-timestamp': '1614265330',
    'webhook-signature': 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=',
  },
  body: '{"test": 2432232314}',
};

const newSecret = () => `whsec_${crypto.randomBytes(32).toString('base64')}`;
/** A signature made by the reference library. */
const sign = (secret, id, timestamp, body) => new Webhook(secret).sign(id, new Date(Number(timestamp) * 1000), body);

describe('isValidSignature', () => {
  test('accepts the Standard Webhooks golden vector, which the reference library also accepts', () => {
    expect(isValidSignature(GOLDEN.secret, GOLDEN.headers, GOLDEN.body)).toBe(true);
    expect(sign(GOLDEN.secret, GOLDEN.headers['webhook-id'], GOLDEN.headers['webhook-timestamp'], GOLDEN.body)).toBe(GOLDEN.headers['webhook-signature']);
  });

  test('accepts what the reference library signs, and nothing it would refuse', () => {
    const secret = newSecret();
    const now = String(Math.floor(Date.now() / 1000));
    const headers = { 'webhook-id': 'msg_1', 'webhook-timestamp': now, 'webhook-signature': sign(secret, 'msg_1', now, '{"a":1}') };
    expect(() => new Webhook(secret).verify('{"a":1}', headers)).not.toThrow();
    expect(isValidSignature(secret, headers, '{"a":1}')).toBe(true);
    expect(() => new Webhook(secret).verify('{"a":2}', headers)).toThrow(/signature/);
    expect(isValidSignature(secret, headers, '{"a":2}')).toBe(false);
  });

  test('rejects a changed body, id, timestamp or secret', () => {
    expect(isValidSignature(GOLDEN.secret, GOLDEN.headers, '{"test": 2432232315}')).toBe(false);
    expect(isValidSignature(GOLDEN.secret, { ...GOLDEN.headers, 'webhook-id': 'msg_other' }, GOLDEN.body)).toBe(false);
    expect(isValidSignature(GOLDEN.secret, { ...GOLDEN.headers, 'webhook-timestamp': '1614265331' }, GOLDEN.body)).toBe(false);
    expect(isValidSignature(newSecret(), GOLDEN.headers, GOLDEN.body)).toBe(false);
  });

  test('accepts any matching entry while a secret rotates, and skips malformed ones', () => {
    const signatures = ['garbage', 'v1a,AAAA', sign(newSecret(), 'msg_1', '1700000000', 'x'), GOLDEN.headers['webhook-signature']].join(' ');
    expect(isValidSignature(GOLDEN.secret, { ...GOLDEN.headers, 'webhook-signature': signatures }, GOLDEN.body)).toBe(true);
    expect(isValidSignature(GOLDEN.secret, { ...GOLDEN.headers, 'webhook-signature': 'garbage v1,' }, GOLDEN.body)).toBe(false);
  });

  test('rejects missing headers or a missing secret', () => {
    const { 'webhook-signature': dropped, ...unsigned } = GOLDEN.headers;
    expect(isValidSignature(GOLDEN.secret, unsigned, GOLDEN.body)).toBe(false);
    expect(isValidSignature(undefined, GOLDEN.headers, GOLDEN.body)).toBe(false);
  });
});

describe('webhookHeaders', () => {
  test('finds the headers under Zapier\'s Http- prefix, in any case', () => {
    expect(webhookHeaders({
      'Http-Webhook-Id': 'msg_1', 'HTTP-WEBHOOK-TIMESTAMP': '1', 'webhook-signature': 'v1,x', 'Content-Type': 'application/json',
    })).toEqual({ 'webhook-id': 'msg_1', 'webhook-timestamp': '1', 'webhook-signature': 'v1,x' });
  });

  test('is null for a request without any of them', () => {
    expect(webhookHeaders({ 'Content-Type': 'application/json', 'Http-User-Agent': 'x' })).toBeNull();
    expect(webhookHeaders(undefined)).toBeNull();
  });
});

describe('perform', () => {
  const secret = newSecret();
  const event = { id: 'evt_42', type: 'subscribers.create', timestamp: '2026-03-01T10:00:00Z', data: { after: { aid: 7 } } };
  const content = JSON.stringify(event);
  const TIMESTAMP = '1772359200';
  /** A request as Zapier hands it over, signed by the reference library unless told otherwise. */
  const request = (body, { signature = sign(secret, event.id, TIMESTAMP, body), omit = [] } = {}) => {
    const headers = { 'Content-Type': 'application/json', 'Http-Webhook-Id': event.id, 'Http-Webhook-Timestamp': TIMESTAMP, 'Http-Webhook-Signature': signature };
    omit.forEach((name) => delete headers[name]);
    let cleaned;
    try {
      cleaned = { ...JSON.parse(body), querystring: {} };
    } catch (error) {
      cleaned = { querystring: {} };
    }
    return {
      subscribeData: { id: 'sub_1', secret },
      cleanedRequest: cleaned,
      rawRequest: { method: 'POST', querystring: '', headers, content: body },
    };
  };
  const refusal = (bundle) => appTester(perform, bundle).then(
    () => { throw new Error('perform accepted the request'); },
    (error) => error,
  );

  test('returns the event of a correctly signed delivery, read from the signed bytes', async () => {
    expect(await appTester(perform, request(content))).toEqual([event]);
  });

  test('refuses a request without signature headers, even one whose body looks like an event', async () => {
    const error = await refusal({ subscribeData: { id: 'sub_1', secret }, cleanedRequest: { ...event, querystring: {} } });
    expect(error.name).toBe('HaltedError');
    expect(error.message).toMatch(/Refused a request without a signature: .*did not come from the connector/);
    const bare = await refusal(request(content, { omit: ['Http-Webhook-Id', 'Http-Webhook-Timestamp', 'Http-Webhook-Signature'] }));
    expect(bare.message).toMatch(/without a signature/);
  });

  test('refuses a request missing one of the headers, naming it', async () => {
    const error = await refusal(request(content, { omit: ['Http-Webhook-Signature'] }));
    expect(error.name).toBe('HaltedError');
    expect(error.message).toMatch(/without the webhook-signature header/);
  });

  test('refuses a delivery whose body or signature was changed', async () => {
    const tampered = await refusal(request(content.replace('"aid":7', '"aid":8'), { signature: sign(secret, event.id, TIMESTAMP, content) }));
    expect(tampered.name).toBe('HaltedError');
    expect(tampered.message).toMatch(/Refused delivery evt_42: its signature does not match this Zap's subscription secret/);
    const forged = await refusal(request(content, { signature: 'v1,AAAA' }));
    expect(forged.message).toMatch(/signature does not match/);
    const otherSecret = await refusal(request(content, { signature: sign(newSecret(), event.id, TIMESTAMP, content) }));
    expect(otherSecret.message).toMatch(/signature does not match/);
  });

  test('refuses a signed body that does not parse, or is not an event', async () => {
    const broken = await refusal(request('{"id": "evt_42", '));
    expect(broken.name).toBe('HaltedError');
    expect(broken.message).toMatch(/Refused delivery evt_42: its body is not valid JSON/);
    const other = await refusal(request('[1, 2]'));
    expect(other.message).toMatch(/is not a BillRun connector event/);
  });

  test('says the Zap must be turned on again when it holds no secret', async () => {
    const bundle = request(content);
    bundle.subscribeData = { id: 'sub_1' };
    const error = await refusal(bundle);
    expect(error.name).not.toBe('HaltedError');
    expect(error.message).toMatch(/holds no signing secret.*Turn the Zap off and on again/);
  });
});
