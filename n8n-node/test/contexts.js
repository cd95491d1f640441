'use strict';
// Plain-object stand-ins for the `this` that n8n passes to a trigger's methods.
const { createHash } = require('node:crypto');

const NODE = {
	id: 'node-1',
	name: 'BillRun Trigger',
	type: 'CUSTOM.billRunTrigger',
	typeVersion: 1,
	position: [0, 0],
	parameters: {},
};
const WEBHOOK_URL = 'http://127.0.0.1:5678/webhook/6f1c/webhook';
const CREDENTIALS = { url: 'http://connector.test:8080/', apiKey: 'brc_test_key' };

function parameterGetter(parameters) {
	return (name, fallback) => (name in parameters ? parameters[name] : fallback);
}

const INSTANCE_ID = 'instance-1';
const WORKFLOW = { id: 'wf-1', name: 'Billing', active: true };

function recordingLogger(logs) {
	const log = (level) => (message) => logs.push([level, message]);
	return { error: log('error'), warn: log('warn'), info: log('info'), debug: log('debug') };
}

/**
 * An IHookFunctions double. `replies` are answered in order to connector calls: an object
 * `{statusCode, body}` or an Error to throw (a network failure). `mode` is n8n's execution mode:
 * `trigger` for an activation, `manual` for "Listen for test event".
 */
function hookContext({
	parameters = {},
	staticData = {},
	replies = [],
	webhookUrl = WEBHOOK_URL,
	mode = 'trigger',
} = {}) {
	const calls = [];
	const logs = [];
	const context = {
		calls,
		logs,
		staticData,
		getNode: () => NODE,
		getNodeParameter: parameterGetter(parameters),
		getNodeWebhookUrl: () => webhookUrl,
		getWorkflowStaticData: () => staticData,
		getCredentials: async () => CREDENTIALS,
		getMode: () => mode,
		getInstanceId: () => INSTANCE_ID,
		getWorkflow: () => WORKFLOW,
		logger: recordingLogger(logs),
		helpers: {
			async httpRequestWithAuthentication(credentialName, options) {
				calls.push({ credentialName, ...options });
				if (replies.length === 0)
					throw new Error(`unexpected request ${options.method} ${options.url}`);
				const reply = replies.shift();
				if (reply instanceof Error) throw reply;
				return { headers: {}, statusMessage: '', ...reply };
			},
		},
	};
	return context;
}

/** A subscription as the connector answers it, posting to the trigger's URL by default. */
function connectorHook(overrides = {}) {
	return {
		id: 'hk_1',
		events: ['bills.afterChargeSuccess', 'subscribers.update'],
		target_url: WEBHOOK_URL,
		status: 'active',
		created_at: '2026-11-29T10:00:00+00:00',
		secret_rotated_at: null,
		previous_secret_expires_at: null,
		expires_at: null,
		metadata: { source: 'n8n', instance_id: INSTANCE_ID, workflow_id: WORKFLOW.id },
		...overrides,
	};
}

/** The answer to `GET /api/v1/hooks`: one page. */
function listReply(hooks, nextCursor = null) {
	return { statusCode: 200, body: { data: hooks, next_cursor: nextCursor } };
}

/** `METHOD path` of each connector call, for asserting the sequence. */
function requestLines(context) {
	return context.calls.map((call) => `${call.method} ${call.url}`);
}

/** An IWebhookFunctions double holding one delivery and recording the response and the log. */
function webhookContext({ parameters = {}, staticData = {}, headers = {}, rawBody }) {
	const response = { statusCode: undefined, body: undefined };
	const logs = [];
	const res = {
		status(code) {
			response.statusCode = code;
			return res;
		},
		json(body) {
			response.body = body;
			return res;
		},
		send(body) {
			response.body = body;
			return res;
		},
		end() {
			return res;
		},
	};
	return {
		response,
		logs,
		getNode: () => NODE,
		getWorkflow: () => WORKFLOW,
		getNodeParameter: parameterGetter(parameters),
		getWorkflowStaticData: () => staticData,
		getHeaderData: () => headers,
		getBodyData: () => JSON.parse(rawBody.toString('utf8')),
		getRequestObject: () => ({ headers, rawBody, body: JSON.parse(rawBody.toString('utf8')) }),
		getResponseObject: () => res,
		logger: recordingLogger(logs),
		helpers: {
			returnJsonArray: (items) =>
				(Array.isArray(items) ? items : [items]).map((json) => ({ json })),
		},
	};
}

/** A `whsec_` secret as the connector makes them, derived from a label for readable tests. */
function secretFor(label) {
	return `whsec_${createHash('sha256').update(label).digest('base64')}`;
}

module.exports = {
	CREDENTIALS,
	INSTANCE_ID,
	NODE,
	WEBHOOK_URL,
	WORKFLOW,
	connectorHook,
	hookContext,
	listReply,
	requestLines,
	secretFor,
	webhookContext,
};
