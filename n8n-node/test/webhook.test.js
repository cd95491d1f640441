'use strict';
const assert = require('node:assert/strict');
const { describe, it } = require('node:test');

const { BillRunTrigger } = require('../dist/nodes/BillRunTrigger/BillRunTrigger.node.js');
const { sign } = require('../dist/nodes/BillRunTrigger/signature.js');
const { secretFor, webhookContext } = require('./contexts');

const trigger = new BillRunTrigger();
const SECRET = secretFor('subscription');

function delivery(type, overrides = {}) {
	const event = {
		id: 'evt_2Yf1',
		type,
		timestamp: '2026-11-29T10:00:00Z',
		data: { before: { sid: 7 }, after: { sid: 7, plan: 'GOLD' }, modifiedUser: 'admin' },
	};
	const rawBody = Buffer.from(JSON.stringify(event));
	const timestamp = String(Math.floor(Date.now() / 1000));
	return {
		event,
		rawBody,
		headers: {
			'content-type': 'application/json',
			'webhook-id': event.id,
			'webhook-timestamp': timestamp,
			'webhook-signature': `v1,${sign(SECRET, event.id, timestamp, rawBody)}`,
			...overrides,
		},
	};
}

function run({
	events = ['subscribers.update'],
	collectionSteps = '',
	staticData,
	headers,
	rawBody,
}) {
	const context = webhookContext({
		parameters: { events, collectionSteps },
		staticData: staticData ?? { subscriptionId: 'hk_1', secret: SECRET },
		headers,
		rawBody,
	});
	return trigger.webhook
		.call(context)
		.then((result) => ({ result, response: context.response, logs: context.logs }));
}

describe('webhook', () => {
	it('starts one run with the event for a good signature', async () => {
		const { event, headers, rawBody } = delivery('subscribers.update');
		const { result, response } = await run({ headers, rawBody });
		assert.deepEqual(result.workflowData, [[{ json: event }]]);
		assert.equal(response.statusCode, undefined);
	});

	it('outputs only id, type, timestamp and data', async () => {
		const { event } = delivery('subscribers.update');
		const rawBody = Buffer.from(JSON.stringify({ ...event, extra: 'dropped' }));
		const timestamp = String(Math.floor(Date.now() / 1000));
		const headers = {
			'webhook-id': event.id,
			'webhook-timestamp': timestamp,
			'webhook-signature': `v1,${sign(SECRET, event.id, timestamp, rawBody)}`,
		};
		const { result } = await run({ headers, rawBody });
		assert.deepEqual(Object.keys(result.workflowData[0][0].json), [
			'id',
			'type',
			'timestamp',
			'data',
		]);
	});

	it('refuses with 401 and logs why a delivery signed only with a secret it does not hold', async () => {
		const now = String(Math.floor(Date.now() / 1000));
		const { event, rawBody } = delivery('subscribers.update');
		const headers = {
			'webhook-id': event.id,
			'webhook-timestamp': now,
			'webhook-signature': `v1,${sign(secretFor('rotated-away'), event.id, now, rawBody)}`,
		};
		const { result, response, logs } = await run({
			headers,
			rawBody,
			staticData: {
				subscriptionId: 'hk_1',
				secret: SECRET,
				secretIssuedAt: '2026-11-29T10:00:00+00:00',
			},
		});
		assert.deepEqual(result, { noWebhookResponse: true });
		assert.equal(response.statusCode, 401);
		assert.match(response.body.message, /no signature matches/);
		assert.equal(logs.length, 1);
		const [level, message] = logs[0];
		assert.equal(level, 'warn');
		assert.match(message, /evt_2Yf1/);
		assert.match(message, /hk_1/);
		assert.match(message, /rotated/);
	});

	it('answers 401 when the body was changed after signing', async () => {
		const { headers, rawBody } = delivery('subscribers.update');
		const tampered = Buffer.from(rawBody.toString('utf8').replace('GOLD', 'FREE'));
		const { result, response } = await run({ headers, rawBody: tampered });
		assert.equal(result.workflowData, undefined);
		assert.equal(response.statusCode, 401);
	});

	it('answers 401 for a timestamp older than five minutes, even when correctly signed', async () => {
		const { event, rawBody } = delivery('subscribers.update');
		const stale = String(Math.floor(Date.now() / 1000) - 301);
		const headers = {
			'webhook-id': event.id,
			'webhook-timestamp': stale,
			'webhook-signature': `v1,${sign(SECRET, event.id, stale, rawBody)}`,
		};
		const { result, response, logs } = await run({ headers, rawBody });
		assert.deepEqual(result, { noWebhookResponse: true });
		assert.equal(response.statusCode, 401);
		assert.match(response.body.message, /timestamp/);
		assert.match(logs[0][1], /timestamp/);
	});

	it('answers 401 when no secret is stored', async () => {
		const { headers, rawBody } = delivery('subscribers.update');
		const { response, logs } = await run({ headers, rawBody, staticData: {} });
		assert.equal(response.statusCode, 401);
		assert.match(logs[0][1], /holds no subscription secret/);
	});

	it('accepts a delivery signed with the old and the new secret during a rotation', async () => {
		const { event, headers, rawBody } = delivery('subscribers.update');
		const other = sign(secretFor('next'), event.id, headers['webhook-timestamp'], rawBody);
		headers['webhook-signature'] = `v1,${other} ${headers['webhook-signature']}`;
		const { result } = await run({ headers, rawBody });
		assert.equal(result.workflowData.length, 1);
	});

	it('drops an event type that is not selected: 200 and no run', async () => {
		const { headers, rawBody } = delivery('accounts.create');
		const { result, response } = await run({ headers, rawBody });
		assert.deepEqual(result, {});
		assert.equal(response.statusCode, undefined);
	});

	it('takes a type the catalog does not know for All Events', async () => {
		const { event, headers, rawBody } = delivery('warehouse.restock');
		const { result } = await run({ events: ['*'], headers, rawBody });
		assert.deepEqual(result.workflowData, [[{ json: event }]]);
	});

	it('takes every action of an entity for its "any change" entry', async () => {
		const { headers, rawBody } = delivery('subscribers.closeandnew');
		const { result } = await run({ events: ['subscribers.trackchanges'], headers, rawBody });
		assert.equal(result.workflowData.length, 1);
	});

	it('takes every collection event for collection.*, only the named steps when named', async () => {
		const custom = delivery('collection.send_sms');
		const all = await run({
			events: ['collection.*'],
			headers: custom.headers,
			rawBody: custom.rawBody,
		});
		assert.equal(all.result.workflowData.length, 1);
		const other = await run({
			events: ['collection.*'],
			collectionSteps: 'suspend_line',
			headers: custom.headers,
			rawBody: custom.rawBody,
		});
		assert.deepEqual(other.result, {});
		const state = delivery('collection.in_collection');
		const state_ = await run({
			events: ['collection.*'],
			headers: state.headers,
			rawBody: state.rawBody,
		});
		assert.equal(state_.result.workflowData.length, 1);
	});
});
