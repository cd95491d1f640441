import type { IDataObject, IWebhookFunctions, IWebhookResponseData } from 'n8n-workflow';

import { isCovered } from './catalogOptions';
import type { HookState } from './ownership';
import { selection } from './selection';
import { verify } from './signature';

function header(headers: IDataObject, name: string): string | undefined {
	const value = headers[name];
	if (Array.isArray(value)) return typeof value[0] === 'string' ? value[0] : undefined;
	return typeof value === 'string' ? value : undefined;
}

/** Answers 401 to a refused delivery, and says in n8n's log why (with `detail` for the operator). */
function refuse(
	context: IWebhookFunctions,
	reason: string,
	deliveryId: string | undefined,
	detail = '',
): IWebhookResponseData {
	context.logger.warn(
		`BillRun Trigger: refused delivery ${deliveryId ?? '(no webhook-id)'} with 401: ${reason}${detail}`,
		{ workflowId: context.getWorkflow().id, node: context.getNode().name },
	);
	context
		.getResponseObject()
		.status(401)
		.json({ message: `Unauthorized: ${reason}` });
	return { noWebhookResponse: true };
}

/**
 * One delivery from the connector: checked against the subscription's secret (401 when it does
 * not pass), then turned into one item when its type is among the selected events.
 */
export async function receive(this: IWebhookFunctions): Promise<IWebhookResponseData> {
	const state = this.getWorkflowStaticData('node') as HookState;
	const headers = this.getHeaderData() as IDataObject;
	const deliveryId = header(headers, 'webhook-id');

	if (!state.secret) {
		return refuse(this, 'this trigger holds no subscription secret', deliveryId);
	}
	const result = verify(
		{
			id: deliveryId,
			timestamp: header(headers, 'webhook-timestamp'),
			signature: header(headers, 'webhook-signature'),
			rawBody: this.getRequestObject().rawBody ?? Buffer.alloc(0),
		},
		state.secret,
	);
	if (!result.valid) {
		const detail = result.mismatch
			? ` (subscription ${state.subscriptionId ?? 'unknown'}, secret issued ${state.secretIssuedAt ?? 'at subscribe time'}).` +
				' Signed with a secret this trigger does not hold, or changed on the way. If the' +
				" subscription's secret was rotated on the connector, reactivate the workflow or restart" +
				' n8n: the trigger then takes a fresh secret.'
			: '';
		return refuse(this, result.reason, deliveryId, detail);
	}

	const body = this.getBodyData();
	if (typeof body.id !== 'string' || typeof body.type !== 'string') {
		this.getResponseObject()
			.status(400)
			.json({ message: 'The delivery is not a BillRun connector event' });
		return { noWebhookResponse: true };
	}
	if (!isCovered(body.type, selection(this).events)) {
		return {};
	}
	const event: IDataObject = {
		id: body.id,
		type: body.type,
		timestamp: body.timestamp,
		data: body.data,
	};
	return { workflowData: [this.helpers.returnJsonArray([event])] };
}
