import type {
	IDataObject,
	IHookFunctions,
	IHttpRequestMethods,
	IHttpRequestOptions,
	JsonObject,
} from 'n8n-workflow';
import { NodeApiError } from 'n8n-workflow';

export const CREDENTIAL_NAME = 'billRunConnectorApi';

/** A subscription as the connector's REST hooks API returns it. */
export interface Hook {
	id: string;
	events: string[];
	target_url: string;
	status: string;
	/** Only in the answer to a create. */
	secret?: string;
}

/** What the node keeps in its static data between activations. */
export interface HookState extends IDataObject {
	subscriptionId?: string;
	secret?: string;
}

interface FullResponse {
	statusCode: number;
	body: unknown;
}

/**
 * Calls the connector with the credential's API key. HTTP errors come back as a status code
 * rather than an exception so that callers can treat a 404 as an answer.
 */
async function connectorRequest(
	context: IHookFunctions,
	method: IHttpRequestMethods,
	path: string,
	body?: IDataObject,
): Promise<FullResponse> {
	const credentials = await context.getCredentials(CREDENTIAL_NAME);
	const baseURL = String(credentials.url).replace(/\/+$/, '');
	const options: IHttpRequestOptions = {
		method,
		baseURL,
		url: path,
		json: true,
		returnFullResponse: true,
		ignoreHttpStatusErrors: true,
	};
	if (body) options.body = body;
	try {
		return (await context.helpers.httpRequestWithAuthentication.call(
			context,
			CREDENTIAL_NAME,
			options,
		)) as FullResponse;
	} catch (error) {
		// Status errors are returned above, so what lands here is a network-level failure.
		throw new NodeApiError(context.getNode(), error as JsonObject, {
			message: `Could not reach the BillRun connector at ${baseURL}`,
		});
	}
}

function failure(context: IHookFunctions, what: string, response: FullResponse): NodeApiError {
	const detail =
		response.body && typeof response.body === 'object'
			? (response.body as JsonObject)
			: { body: String(response.body ?? '') };
	return new NodeApiError(context.getNode(), detail, {
		httpCode: String(response.statusCode),
		message: `The BillRun connector refused to ${what} (HTTP ${response.statusCode})`,
	});
}

function isSuccess(statusCode: number): boolean {
	return statusCode >= 200 && statusCode < 300;
}

const hookPath = (id: string) => `/api/v1/hooks/${encodeURIComponent(id)}`;

/** The subscription, or `undefined` when the connector does not know it (404). */
export async function getHook(context: IHookFunctions, id: string): Promise<Hook | undefined> {
	const response = await connectorRequest(context, 'GET', hookPath(id));
	if (response.statusCode === 404) return undefined;
	if (!isSuccess(response.statusCode)) throw failure(context, 'read the subscription', response);
	return response.body as Hook;
}

export async function createHook(
	context: IHookFunctions,
	targetUrl: string,
	events: string[],
): Promise<Hook> {
	const response = await connectorRequest(context, 'POST', '/api/v1/hooks', {
		target_url: targetUrl,
		events,
	});
	if (!isSuccess(response.statusCode)) throw failure(context, 'create the subscription', response);
	const hook = response.body as Hook;
	if (!hook || typeof hook.id !== 'string' || typeof hook.secret !== 'string') {
		throw new NodeApiError(context.getNode(), (hook ?? {}) as unknown as JsonObject, {
			message: 'The BillRun connector answered without a subscription id and secret',
		});
	}
	return hook;
}

/** Deletes the subscription; `false` when the connector no longer knew it (404). */
export async function deleteHook(context: IHookFunctions, id: string): Promise<boolean> {
	const response = await connectorRequest(context, 'DELETE', hookPath(id));
	if (response.statusCode === 404) return false;
	if (!isSuccess(response.statusCode)) throw failure(context, 'delete the subscription', response);
	return true;
}
