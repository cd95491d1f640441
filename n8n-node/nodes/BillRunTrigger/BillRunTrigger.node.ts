import type {
	IDataObject,
	IHookFunctions,
	INodeType,
	INodeTypeDescription,
	IWebhookFunctions,
	IWebhookResponseData,
} from 'n8n-workflow';
import { NodeConnectionTypes, NodeOperationError } from 'n8n-workflow';

import {
	eventOptions,
	stepModuleTypes,
	isCovered,
	parseStepNames,
	resolveSubscription,
} from './catalogOptions';
import type { Subscription } from './catalogOptions';
import type { HookState } from './hooksApi';
import { CREDENTIAL_NAME, createHook, deleteHook, getHook } from './hooksApi';
import { verify } from './signature';

const WEBHOOK_NAME = 'default';

/** What the node subscribes to, from its current parameters. */
function subscription(context: IHookFunctions | IWebhookFunctions): Subscription {
	const selected = context.getNodeParameter('events', []) as string[];
	const steps = parseStepNames(context.getNodeParameter('collectionSteps', '') as string);
	return resolveSubscription(selected, steps);
}

function sameEvents(a: string[], b: string[]): boolean {
	const left = [...new Set(a)].sort();
	const right = [...new Set(b)].sort();
	return left.length === right.length && left.every((type, index) => type === right[index]);
}

function header(headers: IDataObject, name: string): string | undefined {
	const value = headers[name];
	if (Array.isArray(value)) return typeof value[0] === 'string' ? value[0] : undefined;
	return typeof value === 'string' ? value : undefined;
}

export class BillRunTrigger implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'BillRun Trigger',
		name: 'billRunTrigger',
		icon: { light: 'file:billrun.svg', dark: 'file:billrun.dark.svg' },
		group: ['trigger'],
		version: 1,
		subtitle: '={{$parameter["events"].join(", ")}}',
		description: 'Starts the workflow when BillRun reports a change, through a billrun-connector',
		defaults: {
			name: 'BillRun Trigger',
		},
		inputs: [],
		outputs: [NodeConnectionTypes.Main],
		credentials: [
			{
				name: CREDENTIAL_NAME,
				required: true,
			},
		],
		webhooks: [
			{
				name: WEBHOOK_NAME,
				httpMethod: 'POST',
				responseMode: 'onReceived',
				responseData: 'noData',
				path: 'webhook',
			},
		],
		properties: [
			{
				displayName: 'Events',
				name: 'events',
				type: 'multiOptions',
				required: true,
				default: [],
				description:
					'The BillRun events that start the workflow. Everyday events are listed first.',
				options: eventOptions(),
			},
			{
				displayName: 'Collection Step Names',
				name: 'collectionSteps',
				type: 'string',
				default: '',
				placeholder: 'send_reminder_sms, suspend_line',
				description:
					'Comma-separated names of the custom collection steps to receive. Leave empty to receive every custom step.',
				displayOptions: {
					show: {
						events: stepModuleTypes(),
					},
				},
			},
		],
	};

	webhookMethods = {
		default: {
			async checkExists(this: IHookFunctions): Promise<boolean> {
				const state = this.getWorkflowStaticData('node') as HookState;
				if (!state.subscriptionId) return false;
				const hook = await getHook(this, state.subscriptionId);
				if (!hook) {
					delete state.subscriptionId;
					delete state.secret;
					return false;
				}
				// A subscription that differs is kept in the state so that create() replaces it.
				return (
					Boolean(state.secret) &&
					hook.status === 'active' &&
					hook.target_url === this.getNodeWebhookUrl(WEBHOOK_NAME) &&
					sameEvents(hook.events ?? [], subscription(this).events)
				);
			},

			async create(this: IHookFunctions): Promise<boolean> {
				const state = this.getWorkflowStaticData('node') as HookState;
				const { events, invalidSteps } = subscription(this);
				if (events.length === 0) {
					throw new NodeOperationError(this.getNode(), 'Select at least one event');
				}
				if (invalidSteps.length > 0) {
					throw new NodeOperationError(
						this.getNode(),
						`Not a valid collection step name: ${invalidSteps.join(', ')}`,
					);
				}
				if (state.subscriptionId) {
					try {
						await deleteHook(this, state.subscriptionId);
					} catch (error) {
						this.logger.warn(
							`BillRun Trigger: could not delete the outdated subscription ${state.subscriptionId}: ${(error as Error).message}`,
						);
					}
				}
				const hook = await createHook(this, this.getNodeWebhookUrl(WEBHOOK_NAME) as string, events);
				state.subscriptionId = hook.id;
				state.secret = hook.secret;
				return true;
			},

			async delete(this: IHookFunctions): Promise<boolean> {
				const state = this.getWorkflowStaticData('node') as HookState;
				if (!state.subscriptionId) return true;
				try {
					await deleteHook(this, state.subscriptionId);
				} catch (error) {
					// Keep the id: the next activation finds the subscription and reuses or replaces it.
					this.logger.error(
						`BillRun Trigger: could not delete subscription ${state.subscriptionId}: ${(error as Error).message}`,
					);
					return false;
				}
				delete state.subscriptionId;
				delete state.secret;
				return true;
			},
		},
	};

	async webhook(this: IWebhookFunctions): Promise<IWebhookResponseData> {
		const request = this.getRequestObject();
		const response = this.getResponseObject();
		const state = this.getWorkflowStaticData('node') as HookState;
		const headers = this.getHeaderData() as IDataObject;

		const result = state.secret
			? verify(
					{
						id: header(headers, 'webhook-id'),
						timestamp: header(headers, 'webhook-timestamp'),
						signature: header(headers, 'webhook-signature'),
						rawBody: request.rawBody ?? Buffer.alloc(0),
					},
					state.secret,
				)
			: { valid: false as const, reason: 'no subscription secret is stored for this node' };
		if (!result.valid) {
			response.status(401).json({ message: `Unauthorized: ${result.reason}` });
			return { noWebhookResponse: true };
		}

		const body = this.getBodyData();
		if (typeof body.id !== 'string' || typeof body.type !== 'string') {
			response.status(400).json({ message: 'The delivery is not a BillRun connector event' });
			return { noWebhookResponse: true };
		}
		if (!isCovered(body.type, subscription(this).events)) {
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
}
