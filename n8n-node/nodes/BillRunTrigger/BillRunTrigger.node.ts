import type {
	IHookFunctions,
	INodeType,
	INodeTypeDescription,
	IWebhookFunctions,
	IWebhookResponseData,
} from 'n8n-workflow';
import { NodeConnectionTypes } from 'n8n-workflow';

import { eventOptions, stepModuleTypes, subtitleExpression } from './catalogOptions';
import { receive } from './delivery';
import { CREDENTIAL_NAME } from './hooksApi';
import { WEBHOOK_NAME, hasSubscription, subscribe, unsubscribe } from './lifecycle';

export class BillRunTrigger implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'BillRun Trigger',
		name: 'billRunTrigger',
		icon: { light: 'file:billrun.svg', dark: 'file:billrun.dark.svg' },
		group: ['trigger'],
		version: 1,
		subtitle: subtitleExpression(),
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
					'The BillRun events that start the workflow: All Events, all changes of one entity, or single events (everyday ones first)',
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
				return await hasSubscription.call(this);
			},
			async create(this: IHookFunctions): Promise<boolean> {
				return await subscribe.call(this);
			},
			async delete(this: IHookFunctions): Promise<boolean> {
				return await unsubscribe.call(this);
			},
		},
	};

	async webhook(this: IWebhookFunctions): Promise<IWebhookResponseData> {
		return await receive.call(this);
	}
}
