'use strict';
const assert = require('node:assert/strict');
const { describe, it } = require('node:test');
const { NodeApiError, NodeOperationError } = require('n8n-workflow');

const { BillRunTrigger } = require('../dist/nodes/BillRunTrigger/BillRunTrigger.node.js');
const { WEBHOOK_URL, hookContext } = require('./contexts');

const { checkExists, create, delete: remove } = new BillRunTrigger().webhookMethods.default;
const HOOK_URL = 'http://connector.test:8080';

function storedHook(overrides = {}) {
	return {
		id: 'hk_1',
		events: ['subscribers.update', 'bills.afterChargeSuccess'],
		target_url: WEBHOOK_URL,
		status: 'active',
		created_at: '2026-11-29T10:00:00Z',
		...overrides,
	};
}

const PARAMETERS = { events: ['bills.afterChargeSuccess', 'subscribers.update'] };

describe('checkExists', () => {
	it('is false without a stored subscription and asks nothing', async () => {
		const context = hookContext({ parameters: PARAMETERS });
		assert.equal(await checkExists.call(context), false);
		assert.equal(context.calls.length, 0);
	});

	it('is true when the subscription has the current URL and events', async () => {
		const context = hookContext({
			parameters: PARAMETERS,
			staticData: { subscriptionId: 'hk_1', secret: 'whsec_x' },
			replies: [{ statusCode: 200, body: storedHook() }],
		});
		assert.equal(await checkExists.call(context), true);
		const [call] = context.calls;
		assert.equal(call.credentialName, 'billRunConnectorApi');
		assert.equal(call.method, 'GET');
		assert.equal(call.baseURL, HOOK_URL);
		assert.equal(call.url, '/api/v1/hooks/hk_1');
	});

	it('is false when the webhook URL changed, keeping the id for create() to replace', async () => {
		const context = hookContext({
			parameters: PARAMETERS,
			staticData: { subscriptionId: 'hk_1', secret: 'whsec_x' },
			replies: [
				{ statusCode: 200, body: storedHook({ target_url: 'http://old.example/webhook' }) },
			],
		});
		assert.equal(await checkExists.call(context), false);
		assert.equal(context.staticData.subscriptionId, 'hk_1');
	});

	it('is false when the selected events changed', async () => {
		const context = hookContext({
			parameters: { events: ['subscribers.update'] },
			staticData: { subscriptionId: 'hk_1', secret: 'whsec_x' },
			replies: [{ statusCode: 200, body: storedHook() }],
		});
		assert.equal(await checkExists.call(context), false);
	});

	it('is false when the connector disabled the subscription', async () => {
		const context = hookContext({
			parameters: PARAMETERS,
			staticData: { subscriptionId: 'hk_1', secret: 'whsec_x' },
			replies: [{ statusCode: 200, body: storedHook({ status: 'disabled' }) }],
		});
		assert.equal(await checkExists.call(context), false);
	});

	it('clears the stored id and secret on 404', async () => {
		const context = hookContext({
			parameters: PARAMETERS,
			staticData: { subscriptionId: 'hk_gone', secret: 'whsec_x' },
			replies: [{ statusCode: 404, body: { message: 'not found' } }],
		});
		assert.equal(await checkExists.call(context), false);
		assert.deepEqual(context.staticData, {});
	});

	it('throws NodeApiError on any other error and keeps the state', async () => {
		const context = hookContext({
			parameters: PARAMETERS,
			staticData: { subscriptionId: 'hk_1', secret: 'whsec_x' },
			replies: [{ statusCode: 500, body: { message: 'boom' } }],
		});
		await assert.rejects(checkExists.call(context), (error) => {
			assert.ok(error instanceof NodeApiError);
			assert.equal(error.httpCode, '500');
			return true;
		});
		assert.deepEqual(context.staticData, { subscriptionId: 'hk_1', secret: 'whsec_x' });
	});

	it('throws NodeApiError when the connector cannot be reached', async () => {
		const context = hookContext({
			parameters: PARAMETERS,
			staticData: { subscriptionId: 'hk_1', secret: 'whsec_x' },
			replies: [Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' })],
		});
		await assert.rejects(checkExists.call(context), NodeApiError);
	});
});

describe('create', () => {
	it('subscribes the webhook URL to the events and stores id and secret', async () => {
		const context = hookContext({
			parameters: PARAMETERS,
			replies: [
				{ statusCode: 201, body: { ...storedHook({ id: 'hk_new' }), secret: 'whsec_abc' } },
			],
		});
		assert.equal(await create.call(context), true);
		const [call] = context.calls;
		assert.equal(call.method, 'POST');
		assert.equal(call.url, '/api/v1/hooks');
		assert.deepEqual(call.body, {
			target_url: WEBHOOK_URL,
			events: ['bills.afterChargeSuccess', 'subscribers.update'],
		});
		assert.deepEqual(context.staticData, { subscriptionId: 'hk_new', secret: 'whsec_abc' });
	});

	it('subscribes named collection steps instead of every custom step', async () => {
		const context = hookContext({
			parameters: {
				events: ['collection.*', 'subscribers.update'],
				collectionSteps: 'send_sms, suspend line',
			},
			replies: [{ statusCode: 201, body: { id: 'hk_c', secret: 'whsec_c' } }],
		});
		await create.call(context);
		assert.deepEqual(context.calls[0].body.events, [
			'collection.send_sms',
			'collection.suspend line',
			'subscribers.update',
		]);
	});

	it('refuses a step name the catalog does not allow, before calling the connector', async () => {
		const context = hookContext({
			parameters: { events: ['collection.*'], collectionSteps: 'ok step (day 3), bad\u0007step' },
		});
		await assert.rejects(create.call(context), (error) => {
			assert.ok(error instanceof NodeOperationError);
			assert.match(error.message, /bad\u0007step/);
			return true;
		});
		assert.equal(context.calls.length, 0);
	});

	it('replaces an outdated subscription: deletes it first', async () => {
		const context = hookContext({
			parameters: PARAMETERS,
			staticData: { subscriptionId: 'hk_old', secret: 'whsec_old' },
			replies: [
				{ statusCode: 204, body: '' },
				{ statusCode: 201, body: { id: 'hk_new', secret: 'whsec_new' } },
			],
		});
		await create.call(context);
		assert.deepEqual(
			context.calls.map((call) => `${call.method} ${call.url}`),
			['DELETE /api/v1/hooks/hk_old', 'POST /api/v1/hooks'],
		);
		assert.deepEqual(context.staticData, { subscriptionId: 'hk_new', secret: 'whsec_new' });
	});

	it('throws NodeApiError when the connector refuses and stores nothing', async () => {
		const context = hookContext({
			parameters: PARAMETERS,
			replies: [{ statusCode: 422, body: { message: 'unknown event type' } }],
		});
		await assert.rejects(create.call(context), (error) => {
			assert.ok(error instanceof NodeApiError);
			assert.equal(error.httpCode, '422');
			return true;
		});
		assert.deepEqual(context.staticData, {});
	});

	it('throws NodeApiError when the answer lacks the secret', async () => {
		const context = hookContext({
			parameters: PARAMETERS,
			replies: [{ statusCode: 201, body: { id: 'hk_1' } }],
		});
		await assert.rejects(create.call(context), NodeApiError);
		assert.deepEqual(context.staticData, {});
	});
});

describe('delete', () => {
	it('deletes the stored subscription by id and clears the state', async () => {
		const context = hookContext({
			staticData: { subscriptionId: 'hk_1', secret: 'whsec_x' },
			replies: [{ statusCode: 204, body: '' }],
		});
		assert.equal(await remove.call(context), true);
		assert.equal(context.calls[0].method, 'DELETE');
		assert.equal(context.calls[0].url, '/api/v1/hooks/hk_1');
		assert.deepEqual(context.staticData, {});
	});

	it('tolerates a 404', async () => {
		const context = hookContext({
			staticData: { subscriptionId: 'hk_1', secret: 'whsec_x' },
			replies: [{ statusCode: 404, body: { message: 'not found' } }],
		});
		assert.equal(await remove.call(context), true);
		assert.deepEqual(context.staticData, {});
		assert.deepEqual(context.logs, []);
	});

	it('logs and reports any other error, keeping the id for the next activation', async () => {
		const context = hookContext({
			staticData: { subscriptionId: 'hk_1', secret: 'whsec_x' },
			replies: [{ statusCode: 503, body: { message: 'maintenance' } }],
		});
		assert.equal(await remove.call(context), false);
		assert.equal(context.logs.length, 1);
		assert.equal(context.logs[0][0], 'error');
		assert.match(context.logs[0][1], /hk_1/);
		assert.equal(context.staticData.subscriptionId, 'hk_1');
	});

	it('logs and reports a network failure', async () => {
		const context = hookContext({
			staticData: { subscriptionId: 'hk_1', secret: 'whsec_x' },
			replies: [new Error('connect ECONNREFUSED 127.0.0.1:9')],
		});
		assert.equal(await remove.call(context), false);
		assert.equal(context.logs[0][0], 'error');
	});

	it('has nothing to do without a stored id', async () => {
		const context = hookContext();
		assert.equal(await remove.call(context), true);
		assert.equal(context.calls.length, 0);
	});
});
