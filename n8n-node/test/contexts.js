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

/**
 * An IHookFunctions double. `replies` are answered in order to connector calls: an object
 * `{statusCode, body}` or an Error to throw (a network failure).
 */
function hookContext({
	parameters = {},
	staticData = {},
	replies = [],
	webhookUrl = WEBHOOK_URL,
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
		logger: {
			error: (message) => logs.push(['error', message]),
			warn: (message) => logs.push(['warn', message]),
			info: (message) => logs.push(['info', message]),
			debug: (message) => logs.push(['debug', message]),
		},
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

/** An IWebhookFunctions double holding one delivery and recording the response written. */
function webhookContext({ parameters = {}, staticData = {}, headers = {}, rawBody }) {
	const response = { statusCode: undefined, body: undefined };
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
		getNode: () => NODE,
		getNodeParameter: parameterGetter(parameters),
		getWorkflowStaticData: () => staticData,
		getHeaderData: () => headers,
		getBodyData: () => JSON.parse(rawBody.toString('utf8')),
		getRequestObject: () => ({ headers, rawBody, body: JSON.parse(rawBody.toString('utf8')) }),
		getResponseObject: () => res,
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

module.exports = { CREDENTIALS, NODE, WEBHOOK_URL, hookContext, secretFor, webhookContext };
