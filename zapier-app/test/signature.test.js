'use strict';
/** The Standard Webhooks check and `perform`'s handling of signed, unsigned and forged deliveries. */
const crypto = require('crypto');
const zapier = require('zapier-platform-core');
const { webhookHeaders, isValidSignature } = require('../lib/signature');
const hooks = require('../lib/hooks');

const appTester = zapier.createAppTester(require('..'));

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

const sign = (secret, id, timestamp, body) => `v1,${crypto
  .createHmac('sha256', Buffer.from(secret.replace(/^whsec_/, ''), 'base64'))
  .update(`${id}.${timestamp}.${body}`)
  .digest('base64')}`;

describe('isValidSignature', () => {
  test('accepts the Standard Webhooks golden vector', () => {
    expect(isValidSignature(GOLDEN.secret, GOLDEN.headers, GOLDEN.body)).toBe(true);
  });

  test('rejects a changed body, id, timestamp or secret', () => {
    expect(isValidSignature(GOLDEN.secret, GOLDEN.headers, '{"test": 2432232315}')).toBe(false);
    expect(isValidSignature(GOLDEN.secret, { ...GOLDEN.headers, 'webhook-id': 'msg_other' }, GOLDEN.body)).toBe(false);
    expect(isValidSignature(GOLDEN.secret, { ...GOLDEN.headers, 'webhook-timestamp': '1614265331' }, GOLDEN.body)).toBe(false);
    const other = `whsec_${crypto.randomBytes(32).toString('base64')}`;
    expect(isValidSignature(other, GOLDEN.headers, GOLDEN.body)).toBe(false);
  });

  test('accepts any matching entry while a secret rotates, and skips malformed ones', () => {
    const old = `whsec_${crypto.randomBytes(32).toString('base64')}`;
    const signatures = ['garbage', 'v1a,AAAA', sign(old, 'msg_1', '1700000000', 'x'), GOLDEN.headers['webhook-signature']].join(' ');
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
  const secret = `whsec_${crypto.randomBytes(32).toString('base64')}`;
  const event = { id: 'evt_42', type: 'subscribers.update', timestamp: '2026-03-01T10:00:00Z', data: { after: { aid: 7 } } };
  const content = JSON.stringify(event);
  const signedBundle = (body, signature = sign(secret, event.id, '1772359200', content)) => ({
    subscribeData: { id: 'sub_1', secret },
    cleanedRequest: { ...JSON.parse(body), querystring: {} },
    rawRequest: {
      method: 'POST',
      querystring: '',
      headers: { 'Content-Type': 'application/json', 'Http-Webhook-Id': event.id, 'Http-Webhook-Timestamp': '1772359200', 'Http-Webhook-Signature': signature },
      content: body,
    },
  });

  test('returns the event of a correctly signed delivery, read from the signed bytes', async () => {
    expect(await appTester(hooks.perform, signedBundle(content))).toEqual([event]);
  });

  test('drops a delivery whose body or signature was changed', async () => {
    const tampered = content.replace('"aid":7', '"aid":8');
    expect(await appTester(hooks.perform, signedBundle(tampered))).toEqual([]);
    expect(await appTester(hooks.perform, signedBundle(content, 'v1,AAAA'))).toEqual([]);
  });

  test('passes an unsigned request through as an envelope without Zapier\'s extras', async () => {
    const bundle = { subscribeData: { id: 'sub_1', secret }, cleanedRequest: { ...event, querystring: { a: '1' } } };
    expect(await appTester(hooks.perform, bundle)).toEqual([event]);
  });
});
