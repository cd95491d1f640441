'use strict';
// checkExists runs at every activation and n8n start: it owns the subscriptions on its URL.
const assert = require('node:assert/strict');
const { describe, it } = require('node:test');
const { NodeApiError, NodeOperationError } = require('n8n-workflow');

const { BillRunTrigger } = require('../dist/nodes/BillRunTrigger/BillRunTrigger.node.js');
const {
	CREDENTIALS,
	WEBHOOK_URL,
	connectorHook,
	hookContext,
	listReply,
	requestLines,
} = require('./contexts');

const { checkExists } = new BillRunTrigger().webhookMethods.default;
const PARAMETERS = { events: ['bills.afterChargeSuccess', 'subscribers.update'] };
const HELD = {
	subscriptionId: 'hk_1',
	secret: 'whsec_held',
	secretIssuedAt: '2026-11-29T10:00:00+00:00',
};

function run(options) {
	const context = hookContext({ parameters: PARAMETERS, ...options });
	return checkExists.call(context).then((exists) => ({ exists, context }));
}

describe('checkExists', () => {
	it('lists the subscriptions of its webhook URL and keeps its own when it holds the secret', async () => {
		const { exists, context } = await run({
			staticData: { ...HELD },
			replies: [listReply([connectorHook()])],
		});
		assert.equal(exists, true);
		assert.deepEqual(requestLines(context), ['GET /api/v1/hooks']);
		const [call] = context.calls;
		assert.equal(call.credentialName, 'billRunConnectorApi');
		assert.equal(call.baseURL, CREDENTIALS.url.replace(/\/+$/, ''));
		assert.deepEqual(call.qs, { target_url: WEBHOOK_URL, limit: 100 });
		assert.deepEqual(context.staticData, HELD);
	});

	it('removes every other subscription on its URL (left by a rename, a copy or a crash)', async () => {
		const { exists, context } = await run({
			staticData: { ...HELD },
			replies: [
				listReply([
					connectorHook({ id: 'hk_0', created_at: '2026-11-28T10:00:00+00:00' }),
					connectorHook(),
					connectorHook({ id: 'hk_2', events: ['accounts.create'] }),
				]),
				{ statusCode: 204, body: '' },
				{ statusCode: 410, body: { error: { code: 'gone', message: 'already removed' } } },
			],
		});
		assert.equal(exists, true);
		assert.deepEqual(requestLines(context), [
			'GET /api/v1/hooks',
			'DELETE /api/v1/hooks/hk_0',
			'DELETE /api/v1/hooks/hk_2',
		]);
		assert.equal(context.logs.filter(([level]) => level === 'info').length, 2);
	});

	it('is false and forgets its state when nothing posts to its URL', async () => {
		const { exists, context } = await run({
			staticData: { ...HELD },
			replies: [listReply([]), { statusCode: 410, body: { error: { code: 'gone' } } }],
		});
		assert.equal(exists, false);
		assert.deepEqual(context.staticData, {});
	});

	it('is false without deleting a fitting subscription whose secret it lacks: create takes it over', async () => {
		const { exists, context } = await run({
			staticData: {},
			replies: [listReply([connectorHook({ id: 'hk_before_rename' })])],
		});
		assert.equal(exists, false);
		assert.deepEqual(requestLines(context), ['GET /api/v1/hooks']);
	});

	it('is false once the secret was rotated after it got its own', async () => {
		const { exists, context } = await run({
			staticData: { ...HELD },
			replies: [listReply([connectorHook({ secret_rotated_at: '2026-11-30T08:00:00+00:00' })])],
		});
		assert.equal(exists, false);
		assert.deepEqual(requestLines(context), ['GET /api/v1/hooks']);
		assert.equal(
			context.staticData.subscriptionId,
			'hk_1',
			'create() rotates its own subscription',
		);
	});

	it('is true after its own rotation: it holds the secret that rotation returned', async () => {
		const { exists } = await run({
			staticData: { ...HELD, secretIssuedAt: '2026-11-30T08:00:00.123456+00:00' },
			replies: [
				listReply([connectorHook({ secret_rotated_at: '2026-11-30T08:00:00.123456+00:00' })]),
			],
		});
		assert.equal(exists, true);
	});

	it('treats any rotation as newer when the state does not say when its secret was issued', async () => {
		const { exists } = await run({
			staticData: { subscriptionId: 'hk_1', secret: 'whsec_v1' },
			replies: [listReply([connectorHook({ secret_rotated_at: '2026-11-30T08:00:00+00:00' })])],
		});
		assert.equal(exists, false);
	});

	it('removes its own subscription when the selected events changed', async () => {
		const { exists, context } = await run({
			parameters: { events: ['subscribers.update'] },
			staticData: { ...HELD },
			replies: [listReply([connectorHook()]), { statusCode: 204, body: '' }],
		});
		assert.equal(exists, false);
		assert.deepEqual(requestLines(context), ['GET /api/v1/hooks', 'DELETE /api/v1/hooks/hk_1']);
		assert.deepEqual(context.staticData, {});
	});

	it('removes a subscription the connector disabled', async () => {
		const { exists, context } = await run({
			staticData: { ...HELD },
			replies: [listReply([connectorHook({ status: 'disabled' })]), { statusCode: 204, body: '' }],
		});
		assert.equal(exists, false);
		assert.deepEqual(requestLines(context), ['GET /api/v1/hooks', 'DELETE /api/v1/hooks/hk_1']);
	});

	it('does not take over a short-lived subscription for a production trigger', async () => {
		const { exists, context } = await run({
			replies: [
				listReply([connectorHook({ expires_at: '2026-11-29T10:04:00+00:00' })]),
				{ statusCode: 204, body: '' },
			],
		});
		assert.equal(exists, false);
		assert.deepEqual(requestLines(context), ['GET /api/v1/hooks', 'DELETE /api/v1/hooks/hk_1']);
	});

	it('as a test listener removes what an earlier listener left on the test URL', async () => {
		const testUrl = WEBHOOK_URL.replace('/webhook/', '/webhook-test/');
		const { exists, context } = await run({
			mode: 'manual',
			webhookUrl: testUrl,
			replies: [
				listReply([
					connectorHook({ target_url: testUrl, expires_at: '2026-11-29T10:04:00+00:00' }),
				]),
				{ statusCode: 204, body: '' },
			],
		});
		assert.equal(exists, false);
		assert.deepEqual(context.calls[0].qs.target_url, testUrl);
		assert.deepEqual(requestLines(context), ['GET /api/v1/hooks', 'DELETE /api/v1/hooks/hk_1']);
	});

	it('removes its earlier subscription on an old URL when this instance and workflow made it', async () => {
		const oldUrl = 'http://old-host:5678/webhook/6f1c/webhook';
		const { exists, context } = await run({
			staticData: { ...HELD },
			replies: [
				listReply([]),
				{ statusCode: 200, body: connectorHook({ target_url: oldUrl }) },
				{ statusCode: 204, body: '' },
			],
		});
		assert.equal(exists, false);
		assert.deepEqual(requestLines(context), [
			'GET /api/v1/hooks',
			'GET /api/v1/hooks/hk_1',
			'DELETE /api/v1/hooks/hk_1',
		]);
		assert.deepEqual(context.staticData, {});
	});

	it('leaves a subscription on another URL alone when another instance made it (an imported copy)', async () => {
		const { context } = await run({
			staticData: { ...HELD },
			replies: [
				listReply([]),
				{
					statusCode: 200,
					body: connectorHook({
						target_url: 'http://prod:5678/webhook/6f1c/webhook',
						metadata: { source: 'n8n', instance_id: 'another-instance', workflow_id: 'wf-1' },
					}),
				},
			],
		});
		assert.deepEqual(requestLines(context), ['GET /api/v1/hooks', 'GET /api/v1/hooks/hk_1']);
		assert.deepEqual(context.staticData, {});
	});

	it('reads every page of the list', async () => {
		const { exists, context } = await run({
			staticData: { ...HELD },
			replies: [
				listReply([connectorHook({ id: 'hk_0' })], 'page-2'),
				listReply([connectorHook()]),
				{ statusCode: 204, body: '' },
			],
		});
		assert.equal(exists, true);
		assert.equal(context.calls[1].qs.cursor, 'page-2');
		assert.deepEqual(requestLines(context).slice(2), ['DELETE /api/v1/hooks/hk_0']);
	});

	it('never touches a subscription of another URL, even when the connector ignores the filter', async () => {
		const { exists, context } = await run({
			staticData: { ...HELD },
			replies: [
				listReply([
					connectorHook(),
					connectorHook({ id: 'hk_other', target_url: 'http://elsewhere/hook' }),
				]),
			],
		});
		assert.equal(exists, true);
		assert.deepEqual(requestLines(context), ['GET /api/v1/hooks']);
	});

	it('logs a leftover it could not remove and still answers', async () => {
		const { exists, context } = await run({
			staticData: { ...HELD },
			replies: [
				listReply([connectorHook(), connectorHook({ id: 'hk_2' })]),
				{ statusCode: 503, body: { error: { code: 'unavailable', message: 'database busy' } } },
			],
		});
		assert.equal(exists, true);
		const [level, message] = context.logs.find(([, text]) => text.includes('hk_2'));
		assert.equal(level, 'warn');
		assert.match(message, /database busy/);
	});

	it('throws NodeApiError with the connector message when the list is refused', async () => {
		const failing = hookContext({
			parameters: PARAMETERS,
			staticData: { ...HELD },
			replies: [
				{ statusCode: 401, body: { error: { code: 'unauthorized', message: 'unknown API key' } } },
			],
		});
		await assert.rejects(checkExists.call(failing), (error) => {
			assert.ok(error instanceof NodeApiError);
			assert.equal(error.httpCode, '401');
			assert.match(error.message, /unknown API key/);
			return true;
		});
		assert.deepEqual(failing.staticData, HELD);
	});

	it('throws NodeApiError when the connector cannot be reached', async () => {
		const context = hookContext({
			parameters: PARAMETERS,
			replies: [Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' })],
		});
		await assert.rejects(checkExists.call(context), NodeApiError);
	});

	it('refuses parameters that cannot make a subscription, before calling the connector', async () => {
		const context = hookContext({ parameters: { events: [] } });
		await assert.rejects(checkExists.call(context), NodeOperationError);
		assert.equal(context.calls.length, 0);
	});
});
