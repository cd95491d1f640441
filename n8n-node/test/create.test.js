'use strict';
// create runs when checkExists said false: it takes over or makes the trigger's one subscription.
const assert = require('node:assert/strict');
const { describe, it } = require('node:test');
const { NodeApiError, NodeOperationError } = require('n8n-workflow');

const { BillRunTrigger } = require('../dist/nodes/BillRunTrigger/BillRunTrigger.node.js');
const { TEST_SUBSCRIPTION_SECONDS } = require('../dist/nodes/BillRunTrigger/lifecycle.js');
const {
	INSTANCE_ID,
	WEBHOOK_URL,
	WORKFLOW,
	connectorHook,
	hookContext,
	listReply,
	requestLines,
} = require('./contexts');

const { create } = new BillRunTrigger().webhookMethods.default;
const PARAMETERS = { events: ['bills.afterChargeSuccess', 'subscribers.update'] };

function created(overrides = {}) {
	return {
		statusCode: 201,
		body: { ...connectorHook({ id: 'hk_new', ...overrides }), secret: 'whsec_new' },
	};
}

describe('create', () => {
	it('subscribes its URL to the events, says whose it is, and stores id, secret and issue time', async () => {
		const context = hookContext({ parameters: PARAMETERS, replies: [listReply([]), created()] });
		assert.equal(await create.call(context), true);
		assert.deepEqual(requestLines(context), ['GET /api/v1/hooks', 'POST /api/v1/hooks']);
		assert.deepEqual(context.calls[1].body, {
			target_url: WEBHOOK_URL,
			events: ['bills.afterChargeSuccess', 'subscribers.update'],
			description: `n8n workflow "${WORKFLOW.name}", node "BillRun Trigger"`,
			metadata: {
				source: 'n8n',
				instance_id: INSTANCE_ID,
				workflow_id: WORKFLOW.id,
				node: 'BillRun Trigger',
			},
		});
		assert.deepEqual(context.staticData, {
			subscriptionId: 'hk_new',
			secret: 'whsec_new',
			secretIssuedAt: '2026-11-29T10:00:00+00:00',
		});
	});

	it('makes a test listener short-lived, so that a stopped n8n cannot leave it behind for long', async () => {
		const testUrl = WEBHOOK_URL.replace('/webhook/', '/webhook-test/');
		const context = hookContext({
			parameters: PARAMETERS,
			mode: 'manual',
			webhookUrl: testUrl,
			replies: [listReply([]), created({ target_url: testUrl })],
		});
		await create.call(context);
		const body = context.calls[1].body;
		assert.equal(body.target_url, testUrl);
		assert.equal(body.expires_in, TEST_SUBSCRIPTION_SECONDS);
		assert.ok(TEST_SUBSCRIPTION_SECONDS >= 150 && TEST_SUBSCRIPTION_SECONDS <= 600);
		assert.match(body.description, /test listener/);
	});

	it('takes over a fitting subscription it lacks the secret of (a rename) by rotating its secret', async () => {
		const context = hookContext({
			parameters: PARAMETERS,
			staticData: {},
			replies: [
				listReply([connectorHook({ id: 'hk_before_rename' })]),
				{
					statusCode: 200,
					body: {
						...connectorHook({
							id: 'hk_before_rename',
							secret_rotated_at: '2026-11-30T09:00:00.250000+00:00',
						}),
						secret: 'whsec_fresh',
					},
				},
			],
		});
		assert.equal(await create.call(context), true);
		assert.deepEqual(requestLines(context), [
			'GET /api/v1/hooks',
			'POST /api/v1/hooks/hk_before_rename/rotate-secret',
		]);
		assert.deepEqual(context.staticData, {
			subscriptionId: 'hk_before_rename',
			secret: 'whsec_fresh',
			secretIssuedAt: '2026-11-30T09:00:00.250000+00:00',
		});
		assert.ok(
			context.logs.some(([level, text]) => level === 'info' && /took subscription/.test(text)),
		);
	});

	it('after a rotation on the connector takes a fresh secret for its own subscription', async () => {
		const context = hookContext({
			parameters: PARAMETERS,
			staticData: {
				subscriptionId: 'hk_1',
				secret: 'whsec_old',
				secretIssuedAt: '2026-11-29T10:00:00+00:00',
			},
			replies: [
				listReply([connectorHook({ secret_rotated_at: '2026-11-30T08:00:00+00:00' })]),
				{
					statusCode: 200,
					body: {
						...connectorHook({ secret_rotated_at: '2026-11-30T09:00:00+00:00' }),
						secret: 'whsec_fresh',
					},
				},
			],
		});
		await create.call(context);
		assert.deepEqual(requestLines(context), [
			'GET /api/v1/hooks',
			'POST /api/v1/hooks/hk_1/rotate-secret',
		]);
		assert.equal(context.staticData.secret, 'whsec_fresh');
		assert.equal(context.staticData.secretIssuedAt, '2026-11-30T09:00:00+00:00');
	});

	it('never takes over as a test listener: removes the leftover and subscribes anew', async () => {
		const testUrl = WEBHOOK_URL.replace('/webhook/', '/webhook-test/');
		const context = hookContext({
			parameters: PARAMETERS,
			mode: 'manual',
			webhookUrl: testUrl,
			replies: [
				listReply([
					connectorHook({ target_url: testUrl, expires_at: '2026-11-29T10:04:00+00:00' }),
				]),
				{ statusCode: 204, body: '' },
				created({ target_url: testUrl }),
			],
		});
		await create.call(context);
		assert.deepEqual(requestLines(context), [
			'GET /api/v1/hooks',
			'DELETE /api/v1/hooks/hk_1',
			'POST /api/v1/hooks',
		]);
	});

	it('removes subscriptions with other events before subscribing', async () => {
		const context = hookContext({
			parameters: { events: ['accounts.create'] },
			replies: [listReply([connectorHook()]), { statusCode: 204, body: '' }, created()],
		});
		await create.call(context);
		assert.deepEqual(requestLines(context), [
			'GET /api/v1/hooks',
			'DELETE /api/v1/hooks/hk_1',
			'POST /api/v1/hooks',
		]);
		assert.deepEqual(context.calls[2].body.events, ['accounts.create']);
	});

	it('subscribes named collection steps instead of every custom step', async () => {
		const context = hookContext({
			parameters: {
				events: ['collection.*', 'subscribers.update'],
				collectionSteps: 'send_sms, suspend line',
			},
			replies: [listReply([]), created()],
		});
		await create.call(context);
		assert.deepEqual(context.calls[1].body.events, [
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

	it('throws NodeApiError naming what the connector refused, and stores nothing', async () => {
		const context = hookContext({
			parameters: PARAMETERS,
			replies: [
				listReply([]),
				{
					statusCode: 422,
					body: {
						error: {
							code: 'validation_error',
							message: 'the target URL is refused: loopback',
							fields: { target_url: ['loopback'] },
						},
					},
				},
			],
		});
		await assert.rejects(create.call(context), (error) => {
			assert.ok(error instanceof NodeApiError);
			assert.equal(error.httpCode, '422');
			assert.match(error.message, /target URL is refused/);
			return true;
		});
		assert.deepEqual(context.staticData, {});
	});

	it('throws NodeApiError when the answer lacks the secret', async () => {
		const context = hookContext({
			parameters: PARAMETERS,
			replies: [listReply([]), { statusCode: 201, body: { id: 'hk_1' } }],
		});
		await assert.rejects(create.call(context), NodeApiError);
		assert.deepEqual(context.staticData, {});
	});
});
